"""`python -m aquamind_assets.cli`: the same as the `aquamind` command."""
import sys

from . import main

sys.exit(main())
