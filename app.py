"""CDK app entry point (filled in by the stack work)."""
