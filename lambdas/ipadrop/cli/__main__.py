import sys

from ipadrop.cli.main import main

sys.exit(main())
