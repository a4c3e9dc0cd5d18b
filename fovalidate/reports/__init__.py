"""Report formats: one module per format, all implementing `interface.ReportFormat`."""

from __future__ import annotations

from fovalidate.reports.interface import ReportFormat


def get_format(name: str) -> ReportFormat:
    """The format called `name` (console, json, junit, markdown, sarif)."""
    if name == "console":
        from fovalidate.reports.console import ConsoleFormat

        return ConsoleFormat()
    if name == "json":
        from fovalidate.reports.json import JsonFormat

        return JsonFormat()
    if name == "junit":
        from fovalidate.reports.junit import JUnitFormat

        return JUnitFormat()
    if name == "markdown":
        from fovalidate.reports.markdown import MarkdownFormat

        return MarkdownFormat()
    if name == "sarif":
        from fovalidate.reports.sarif import SarifFormat

        return SarifFormat()
    raise KeyError(name)
