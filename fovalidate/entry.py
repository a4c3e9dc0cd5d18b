"""The `fovalidate` command (and `python -m fovalidate`).

Kept apart from `fovalidate.cli` so that fovalidate takes over Ctrl-C before
Typer, Rich and the rest are imported (about 0.15 s): a Ctrl-C in that time
must still give the reports the command line asks for (`fovalidate.interrupt`).
"""

from __future__ import annotations


def main() -> None:
    from fovalidate import interrupt

    interrupt.install()
    from fovalidate.cli import main as cli_main

    cli_main()
