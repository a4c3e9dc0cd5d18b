"""A minimal terminal screen: replays what a program wrote to a pty and returns the final screen.

It understands what rich's live display uses (CR, LF, cursor up, erase line,
SGR colours, cursor show/hide) and ignores other escape sequences, so a test
can assert what a person sees once the program has finished, not the bytes.
"""

from __future__ import annotations

import re

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
    argv: list[str], env: dict[str, str], *, columns: int = 80, rows: int = 24, timeout: float = 60
) -> tuple[str, int]:
    """Run `argv` with stdin, stdout and stderr on one pseudo-terminal of
    `columns` x `rows`; return everything it wrote and its exit code.

    The size is set on the terminal itself (TIOCSWINSZ), as a terminal
    emulator does, so the program finds it the way it would for a person;
    COLUMNS and LINES are removed from `env` so that they cannot override it."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import termios
    import time

    env = {key: value for key, value in env.items() if key not in ("COLUMNS", "LINES")}
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        argv, stdin=secondary, stdout=secondary, stderr=secondary, env=env, close_fds=True
    )
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.1)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(primary)
    code = proc.wait(timeout=10)
    return b"".join(chunks).decode("utf-8", "replace"), code
