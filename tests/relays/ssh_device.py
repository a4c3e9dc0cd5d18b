"""The device side of an SSH session: run by OpenSSH's `ForceCommand` in the tests.

It behaves as a network device's CLI does towards a screen-scraping client:
a prompt, the command echoed by the pseudo-terminal, the output, the prompt
again. The prompts and the paging/width commands a client sends first are
those of scrapli's platform definitions (scrapli/definitions/cisco_iosxe.yaml:
`term width 512`, `term len 0`, prompt `name#`; juniper_junos.yaml: `set cli
screen-width 511`, `set cli screen-length 0`, prompt `user@name>`), which
follow the vendors' CLIs. The one command that prints the configuration
answers with a stored configuration file; anything else gets the platform's
"invalid input" line, so a client sending a wrong command fails visibly.

    ssh_device.py --prompt 'core-sw1#' --command 'show running-config' --config FILE
    ssh_device.py --hang        # a session that never shows a prompt
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

#: Commands clients send to set up the session (width, paging); they print nothing.
SETUP_PREFIXES = ("term", "terminal", "set cli ", "screen-length", "no page", "/system note")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompt", default="device#")
    parser.add_argument("--command", default="show running-config")
    parser.add_argument("--config")
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
    if args.hang:
        time.sleep(3600)  # the test's sshd is stopped long before; the session dies with it
        return
    config = Path(args.config).read_text(encoding="utf-8")
    out = sys.stdout
    out.write(args.prompt)
    out.flush()
    for line in sys.stdin:
        command = line.strip()
        if command in ("exit", "quit", "logout"):
            break
        if command == args.command:
            out.write(config if config.endswith("\n") else config + "\n")
        elif command and not command.startswith(SETUP_PREFIXES):
            out.write("% Invalid input detected at '^' marker.\n")
        out.write(args.prompt)
        out.flush()


if __name__ == "__main__":
    main()
