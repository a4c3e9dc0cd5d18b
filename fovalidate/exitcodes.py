"""fovalidate's exit codes: the documented contract, defined once.

The CLI, the report (`Report.exit_code`) and the JSON report all use these.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    #: nothing failed and everything could be checked
    OK = 0
    #: at least one FAIL (or a WARN with --fail-on warn)
    FAIL = 1
    #: usage or inventory error: nothing was checked
    USAGE = 2
    #: no FAIL, but at least one check could not run (ERROR)
    INCOMPLETE = 3
    #: interrupted (Ctrl-C); the partial report is still written
    INTERRUPTED = 130
