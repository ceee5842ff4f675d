"""``python -m angd_np``: the same command line as ``angd-np``."""

from .cli import main

raise SystemExit(main())
