import sys

from opcp.cli import main

sys.exit(main())
