"""`python -m dsco_desktop`: the same as the `dsco-desktop` console script."""

import sys

from dsco_desktop.app import main

sys.exit(main())
