"""Allow ``python -m bundlelint``."""

from bundlelint.cli import main

raise SystemExit(main())
