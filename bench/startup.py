"""Start-up benchmark: what the light commands import, and how fast they start.

    /work/venv/bin/python bench/startup.py [--runs N]

(a) Runs `fovalidate --help`, `fovalidate checks` and `fovalidate explain
    time.skew` through the installed console script, each in a fresh
    interpreter with `-X importtime`, and lists what it imported. The heavy
    libraries that only the host-facing commands need (pywinrm = `winrm`,
    `requests`, dnspython = `dns`, `ntplib`) must not be among them: one
    PASS/FAIL line per command, and for a FAIL the source line that first
    imported the library. The exit status is 1 when any command fails.
(b) The median wall-clock time of each of those commands over N runs, next
    to the median of `python -c "import typer"` (the floor for a Typer CLI),
    and the ratio. The runs are interleaved so that a slow moment of the
    machine hits every command alike.

No network traffic: none of these commands talks to a host.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FORBIDDEN = ("winrm", "requests", "dns", "ntplib")
COMMANDS: tuple[tuple[str, ...], ...] = (("--help",), ("checks",), ("explain", "time.skew"))

# Runs the console script in this interpreter after installing an import hook
# that remembers, for each forbidden package, the innermost frames of our own
# code that imported it (so a FAIL names the line to fix), and writes the
# module list at exit. -X importtime alone cannot name the importer when the
# import happens under importlib (entry points), which resets its nesting.
_HOOK = r"""
import atexit, json, os, runpy, sys, traceback
FORBIDDEN = set(os.environ["BENCH_FORBIDDEN"].split(","))
culprits = {}
def is_ours(filename):
    return ("fovalidate" in filename or "/checks/" in filename) and "<frozen" not in filename
class Spy:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in FORBIDDEN and top not in culprits:
            ours = [f for f in traceback.extract_stack() if is_ours(f.filename)]
            chain = ours[-3:] or traceback.extract_stack()[-2:-1]
            culprits[top] = " <- ".join(f"{f.filename}:{f.lineno} ({f.line})" for f in reversed(chain))
        return None
sys.meta_path.insert(0, Spy())
def dump():
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump({"modules": sorted(sys.modules), "culprits": culprits}, out)
atexit.register(dump)
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""


@dataclass(frozen=True)
class ImportProfile:
    command: tuple[str, ...]
    modules: tuple[str, ...]
    culprits: dict[str, str]  # forbidden package -> the import lines that first pulled it in
    cumulative_us: dict[str, int]  # top-level package -> cumulative import time (microseconds)

    @property
    def forbidden(self) -> list[str]:
        tops = {name.split(".")[0] for name in self.modules}
        return [name for name in FORBIDDEN if name in tops]


def console_script() -> Path:
    """The installed `fovalidate` entry point, next to this interpreter first."""
    beside = Path(sys.executable).parent / "fovalidate"
    if beside.exists():
        return beside
    found = shutil.which("fovalidate")
    if not found:
        sys.exit("bench/startup.py: no `fovalidate` command found; run `pip install -e .` first")
    return Path(found)


def quiet_env() -> dict[str, str]:
    # No colours and a fixed width, so that rich renders the same way in every run.
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}


def profile_imports(script: Path, command: tuple[str, ...]) -> ImportProfile:
    with tempfile.TemporaryDirectory(prefix="fovalidate-bench-") as folder:
        out = Path(folder) / "modules.json"
        env = {**quiet_env(), "BENCH_FORBIDDEN": ",".join(FORBIDDEN), "BENCH_OUT": str(out)}
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", _HOOK, str(script), *command],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if completed.returncode != 0 or not out.exists():
            sys.exit(
                f"bench/startup.py: `fovalidate {' '.join(command)}` exited {completed.returncode}:\n"
                f"{completed.stderr[-2000:]}"
            )
        seen = json.loads(out.read_text(encoding="utf-8"))
    cumulative: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        # "import time:   self [us] | cumulative | imported package"; two spaces per nesting level
        if not line.startswith("import time:") or "imported package" in line:
            continue
        _, cumulative_text, name_field = line[len("import time:") :].split("|")
        if not name_field.startswith("  "):  # an import of the command itself, not a nested one
            top = name_field.strip().split(".")[0]
            cumulative[top] = cumulative.get(top, 0) + int(cumulative_text)
    return ImportProfile(command, tuple(seen["modules"]), seen["culprits"], cumulative)


def wall_times(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {label: [] for label in commands}
    env = quiet_env()
    for _ in range(runs):
        for label, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
            times[label].append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command (default 20)")
    args = parser.parse_args()
    script = console_script()
    print(f"python {sys.version.split()[0]} at {sys.executable}; console script {script}")

    print("\n(a) modules imported by the light commands")
    failed = False
    for command in COMMANDS:
        profile = profile_imports(script, command)
        label = "fovalidate " + " ".join(command)
        heaviest = sorted(profile.cumulative_us.items(), key=lambda item: -item[1])[:5]
        print(f"  {label}: {len(profile.modules)} modules in sys.modules; heaviest imports (ms):")
        print("    " + ", ".join(f"{name} {us / 1000:.1f}" for name, us in heaviest))
        if profile.forbidden:
            failed = True
            print(
                f"  FAIL {label}: imports {', '.join(profile.forbidden)} (must not: {', '.join(FORBIDDEN)})"
            )
            for package in profile.forbidden:
                print(f"       {package} first imported by {profile.culprits.get(package, '(unknown)')}")
        else:
            print(f"  PASS {label}: none of {', '.join(FORBIDDEN)} imported")

    print(f"\n(b) median wall-clock start time over {args.runs} runs (interleaved)")
    commands = {
        'python -c "import typer"': [sys.executable, "-c", "import typer"],
        **{"fovalidate " + " ".join(command): [str(script), *command] for command in COMMANDS},
    }
    wall_times(commands, 2)  # warm the page cache and .pyc files; not counted
    times = wall_times(commands, args.runs)
    floor = statistics.median(times['python -c "import typer"'])
    width = max(len(label) for label in commands)
    for label, samples in times.items():
        median = statistics.median(samples)
        print(
            f"  {label:<{width}}  median {median * 1000:7.1f} ms  "
            f"(min {min(samples) * 1000:6.1f}, max {max(samples) * 1000:6.1f})  "
            f"ratio to import typer {median / floor:4.2f}x"
        )

    print("\nstartup imports: " + ("FAIL" if failed else "PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
