"""``python -m fiveo_sync``."""

from fiveo_sync.cli import main

raise SystemExit(main())
