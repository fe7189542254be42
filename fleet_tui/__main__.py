"""``python -m fleet_tui``: the same as the ``fleet-tui`` command."""

import sys

from fleet_tui.cli import main

sys.exit(main())
