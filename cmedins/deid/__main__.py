"""`python -m cmedins.deid`: see `cmedins.deid.cli`."""

from cmedins.deid.cli import main

raise SystemExit(main())
