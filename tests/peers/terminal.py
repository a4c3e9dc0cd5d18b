"""A minimal terminal screen: replays what a program wrote to a pty and returns the final screen.

It understands what rich's live display uses (CR, LF, cursor up, erase line,
SGR colours, cursor show/hide) and ignores other escape sequences, so a test
can assert what a person sees once the program has finished, not the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07]*\x07|\r|\n|[^\x1b\r\n]+")


def final_screen(output: str, width: int = 200) -> list[str]:
    lines: list[list[str]] = [[]]
    row = col = 0
    for match in _TOKEN.finditer(output):
        token = match.group(0)
        if token == "\r":
            col = 0
        elif token == "\n":
            row += 1
            if row == len(lines):
                lines.append([])
        elif match.group(2):
            params, command = match.group(1), match.group(2)
            count = int(params) if params.isdigit() else 1
            if command == "A":
                row = max(0, row - count)
            elif command == "B":
                row += count
                while row >= len(lines):
                    lines.append([])
            elif command == "K":
                if params in ("2",):
                    lines[row] = []
                else:  # erase to the end of the line
                    del lines[row][col:]
            elif command == "G":
                col = max(0, count - 1)
            # "m" (colours), "h"/"l" (cursor visibility) change nothing on screen
        elif token.startswith("\x1b]"):
            continue
        else:
            line = lines[row]
            for char in token:
                if col >= width:
                    row, col = row + 1, 0
                    if row == len(lines):
                        lines.append([])
                    line = lines[row]
                while len(line) < col:
                    line.append(" ")
                if col < len(line):
                    line[col] = char
                else:
                    line.append(char)
                col += 1
    return ["".join(line).rstrip() for line in lines]


def run_on_pty(
    argv: list[str],
    env: dict[str, str],
    *,
    columns: int = 80,
    rows: int = 24,
    timeout: float = 60,
    keys: Sequence[tuple[str | float, bytes]] = (),
    foreground_job: bool = False,
) -> tuple[str, int]:
    """Run `argv` with stdin, stdout and stderr on one pseudo-terminal of
    `columns` x `rows`; return everything it wrote and its exit code.

    The size is set on the terminal itself (TIOCSWINSZ), as a terminal
    emulator does, so the program finds it the way it would for a person;
    COLUMNS and LINES are removed from `env` so that they cannot override it.

    `keys` are typed in order, each (text to wait for in the output, or
    seconds after the start; bytes to type); the run fails if one is never
    due. With `foreground_job` the program is the terminal's foreground job
    (a session of its own, the pty its controlling terminal, SIGINT at its
    default), so the terminal's line discipline turns a typed Ctrl-C (\\x03)
    into SIGINT for its whole process group, exactly as at a console."""
    import fcntl
    import os
    import pty
    import select
    import signal
    import struct
    import subprocess
    import termios
    import time

    def become_foreground_job() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    env = {key: value for key, value in env.items() if key not in ("COLUMNS", "LINES")}
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        argv,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
        preexec_fn=become_foreground_job if foreground_job else None,
    )
    os.close(secondary)
    output = b""
    pending = list(keys)
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if pending:
            wait_for, key = pending[0]
            if (
                time.monotonic() - started >= wait_for
                if isinstance(wait_for, float)
                else wait_for.encode() in output
            ):
                os.write(primary, key)
                pending.pop(0)
                continue
        # Keys typed at a given moment need a short wait; plain output does not.
        ready, _, _ = select.select([primary], [], [], 0.01 if pending else 0.1)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            output += data
        elif proc.poll() is not None:
            break
    os.close(primary)
    if proc.poll() is None:
        proc.kill()
    code = proc.wait(timeout=10)
    text = output.decode("utf-8", "replace")
    assert not pending, f"never saw {pending[0][0]!r}: {text}"
    return text, code
