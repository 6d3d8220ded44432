"""``python -m simulation`` runs the secsim command line."""

import sys

from .cli import main

sys.exit(main())
