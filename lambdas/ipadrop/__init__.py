"""ipadrop: over-the-air distribution of in-house iOS apps.

Layering (imports only point downwards):
  pure core   model, layout, errors, zipreader, plists, png, provision, ipa,
              render/, tokens, buildid, publish (orchestration over a Store protocol)
  adapters    adapters/ (boto3 wrappers taking an injectable client)
  handlers    handlers/ (Powertools, read settings, call the core)
  tools       cli/, local/ (never shipped to Lambda)
"""

__version__ = "0.1.0"
