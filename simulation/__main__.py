"""``python -m simulation`` runs the secsim command line."""

import sys

from simulation.cli.main import main

sys.exit(main())
