"""Publishing: from an upload event to a published build or a rejection; revoking.

Pure orchestration over the ports in ``ipadrop.domain.ports``; see docs/ARCHITECTURE.md.
"""
