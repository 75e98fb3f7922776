"""`python -m services`: the command line (services/cli)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
