"""`python -m cmedins.clean`: see `cmedins.clean.cli`."""

import sys

from cmedins.clean.cli import main

if __name__ == "__main__":  # the signature pool spawns processes that import this module again
    sys.exit(main())
