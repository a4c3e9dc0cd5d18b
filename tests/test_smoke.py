"""The installed command starts and lists its built-in checks."""

import subprocess
import sys


def test_version_and_checks_listed():
    out = subprocess.run([sys.executable, "-m", "fovalidate", "--version"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("fovalidate ")
    listing = subprocess.run([sys.executable, "-m", "fovalidate", "checks"], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    for check_id in ("time.skew", "net.failover-port", "dns.resolution"):
        assert check_id in listing.stdout
