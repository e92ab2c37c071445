import sys

from ipadrop_tools.cli.main import main

sys.exit(main())
