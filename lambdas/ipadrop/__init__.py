"""ipadrop: over-the-air distribution of in-house iOS apps (the Lambda runtime).

Rooms by concern (see docs/ARCHITECTURE.md for what each may import):
  pure core   reading/, domain/, links/, publishing/, render/, distribution/,
              devices/, text.py, settings.py
  adapters    adapters/ (boto3 wrappers taking an injectable client)
  handlers    handlers/ (Powertools; parse the event, call the core)
The command line, the local stack and the devkit are in ``ipadrop_tools``,
which never ships to Lambda.
"""

__version__ = "0.1.0"
