"""Shared test setup: make tests/peers importable and load its fixtures everywhere.

pytest runs with --import-mode=importlib, which does not put test folders on
sys.path, so the folder holding the `peers` package is added here.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["peers.fixtures"]
