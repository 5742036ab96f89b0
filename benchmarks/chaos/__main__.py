"""`python benchmarks/chaos ...`: the chaos package run as a script (see cli.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chaos.cli import main  # noqa: E402

sys.exit(main())
