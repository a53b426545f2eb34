import sys

from opcp_cli import main

sys.exit(main())
