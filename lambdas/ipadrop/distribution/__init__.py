"""Distribution: release notes, channels, invitations, activity (docs/ARCHITECTURE.md)."""
