"""Shared test setup: make tests/peers importable and load its fixtures everywhere.

pytest runs with --import-mode=importlib, which does not put test folders on
sys.path, so the folder holding the `peers` package is added here.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["peers.fixtures"]

# The property tests (hypothesis) draw new examples on every run. On a
# developer's machine that is the point; in CI (`.ci/run` sets CI=1) a new
# example found there would fail a submission for a reason unrelated to it,
# and would be lost with the CI machine. So CI draws the same examples every
# run (derandomize) and keeps no example database; run the suite locally to
# explore.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    settings.load_profile("ci")
