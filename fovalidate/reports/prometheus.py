"""Prometheus text exposition for node_exporter's textfile collector.

`fovalidate check INVENTORY --prometheus /var/lib/prometheus/node-exporter/fovalidate.prom`
writes the metrics below; node_exporter (`--collector.textfile.directory`)
serves them with its own. The file is written to a temporary file in the same
directory and renamed over the old one, so the collector never reads half a
file (the collector's documentation asks for exactly this).

The text comes from the official Python client library (prometheus_client,
Apache-2.0), so escaping, HELP/TYPE lines and number formatting follow the
format's own implementation rather than ours.

Metrics (all gauges; a metric without a value is left out, never faked):

- `fovalidate_last_run_timestamp_seconds`, `fovalidate_last_run_duration_seconds`,
  `fovalidate_last_run_interrupted`, `fovalidate_last_run_exit_code`
- `fovalidate_findings{status}`: findings per status in the whole run
- `fovalidate_relationship_findings{relationship,status}` and
  `fovalidate_server_findings{server,status}`: the same per relationship
  (its own findings and its partners') and per server
- `fovalidate_relationship_skew_seconds{relationship}` (signed: primary minus
  partner) and `fovalidate_relationship_skew_uncertainty_seconds{relationship}`
- `fovalidate_relationship_state{relationship,server,state}` 1 for the state
  each partner reports for the relationship, where the Windows facts show it
- `fovalidate_failover_port_reachable{server,from}` 1 open, 0 not: `from="fovalidate"`
  is this machine's TCP connect, `from="<partner>"` the partner's own connect
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fovalidate.findings import STATUS_ORDER, Finding
from fovalidate.reports.interface import Report, ReportFormat

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Gauge

    #: Makes a gauge in the report's registry: (name, help, label names).
    GaugeMaker = Callable[[str, str, tuple[str, ...]], Gauge]

NAMESPACE = "fovalidate"
#: The `from` label of connects made by fovalidate itself.
THIS_MACHINE = "fovalidate"
#: Partner connect results that say whether the port was reachable.
CONNECT_ANSWERS = ("open", "refused", "timeout", "unreachable")


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {status.value: 0 for status in STATUS_ORDER}
    for finding in findings:
        counts[finding.status.value] += 1
    return counts


def _applies_to(report: Report) -> dict[str, str]:
    return {info.id: info.applies_to for info in report.checks}


def _about_server(finding: Finding, server: str) -> bool:
    """A server check's target is the server's name, or the name and a subject."""
    return finding.target == server or finding.target.startswith(server + " ")


def build_registry(report: Report) -> CollectorRegistry:
    """The report's metrics in a fresh registry (nothing from the process's default one)."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry(auto_describe=True)

    def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, documentation, labels, namespace=NAMESPACE, registry=registry)

    gauge("last_run_timestamp_seconds", "When the last fovalidate run finished (Unix time).").set(
        report.finished_at.timestamp()
    )
    gauge("last_run_duration_seconds", "How long the last fovalidate run took.").set(
        max(0.0, (report.finished_at - report.started_at).total_seconds())
    )
    gauge("last_run_interrupted", "1 when the last run was interrupted before it finished.").set(
        1 if report.interrupted else 0
    )
    gauge(
        "last_run_exit_code", "fovalidate's own exit code for the last run (0 ok, 1 fail, 3 incomplete)."
    ).set(report.exit_code())

    findings = gauge("findings", "Findings of the last run, per status.", ("status",))
    for status, count in _counts(report.findings).items():
        findings.labels(status=status).set(count)

    applies_to = _applies_to(report)
    per_relationship = gauge(
        "relationship_findings",
        "Findings per failover relationship (its own and its partners'), per status.",
        ("relationship", "status"),
    )
    for relationship in report.relationships:
        # Relationship findings name their relationship; server findings every one the server is in.
        related = [f for f in report.findings if relationship in f.relationships]
        for status, count in _counts(related).items():
            per_relationship.labels(relationship=relationship, status=status).set(count)

    servers = sorted({name for pair in report.relationship_servers.values() for name in pair})
    server_findings = [f for f in report.findings if applies_to.get(f.check) == "server"]
    # Servers in no relationship still have their own findings (server names hold no spaces).
    servers += sorted({f.target.split(" ")[0] for f in server_findings} - set(servers))
    per_server = gauge("server_findings", "Findings per server, per status.", ("server", "status"))
    for server in servers:
        own = [f for f in server_findings if _about_server(f, server)]
        for status, count in _counts(own).items():
            per_server.labels(server=server, status=status).set(count)

    _skew(report, gauge)
    _states(report, gauge)
    _ports(report, gauge)
    return registry


def _skew(report: Report, gauge: GaugeMaker) -> None:
    skew = gauge(
        "relationship_skew_seconds",
        "Clock skew between the partners (primary minus partner), from time.skew.",
        ("relationship",),
    )
    uncertainty = gauge(
        "relationship_skew_uncertainty_seconds",
        "Uncertainty of the measured skew (half the round trips).",
        ("relationship",),
    )
    for finding in report.findings:
        if finding.check != "time.skew" or finding.target not in report.relationship_servers:
            continue
        value, error = finding.observed.get("skew_seconds"), finding.observed.get("uncertainty_seconds")
        if isinstance(value, (int, float)) and isinstance(error, (int, float)):
            skew.labels(relationship=finding.target).set(value)
            uncertainty.labels(relationship=finding.target).set(error)


def _states(report: Report, gauge: GaugeMaker) -> None:
    """The state each partner reports for the relationship (Get-DhcpServerv4Failover), where known."""
    from fovalidate.facts.windows import KIND_NAME, SectionError, WindowsFacts

    state = gauge(
        "relationship_state",
        "1 for the failover state a partner reports for the relationship (where the Windows facts show it).",
        ("relationship", "server", "state"),
    )
    for relationship, pair in report.relationship_servers.items():
        for server in pair:
            result = report.facts.get((KIND_NAME, server))
            facts = result.value if result is not None else None
            if not isinstance(facts, WindowsFacts) or isinstance(facts.relationships, SectionError):
                continue
            for existing in facts.relationships:
                if existing.name.lower() == relationship.lower() and existing.state:
                    state.labels(relationship=relationship, server=server, state=existing.state).set(1)


def _ports(report: Report, gauge: GaugeMaker) -> None:
    reachable = gauge(
        "failover_port_reachable",
        "1 when the server's failover port (TCP 647) accepted a connection, 0 when it did not.",
        ("server", "from"),
    )
    for finding in report.findings:
        observed = finding.observed
        if finding.check == "net.failover-port" and isinstance(observed.get("state"), str):
            reachable.labels(server=finding.target, **{"from": THIS_MACHINE}).set(
                1 if observed["state"] == "open" else 0
            )
        elif finding.check == "net.partner-port" and observed.get("result") in CONNECT_ANSWERS:
            # "error": the partner could not even try; that says nothing about reachability.
            reachable.labels(server=str(observed.get("to")), **{"from": str(observed.get("from"))}).set(
                1 if observed["result"] == "open" else 0
            )


class PrometheusFormat(ReportFormat):
    name = "prometheus"
    suffix = ".prom"
    # Metrics are numbers; the notices are in the other reports.
    shows_notices = False
    option = "--prometheus"
    option_help = "Also write Prometheus metrics here, for node_exporter's textfile collector (atomic)."

    def render(self, report: Report) -> str:
        from prometheus_client import generate_latest

        return generate_latest(build_registry(report)).decode("utf-8")

    def write(self, report: Report, path: Path) -> None:
        """Write to a temporary file beside `path`, then rename it over `path`:
        the collector sees the old file or the new one, never a partial one."""
        text = self.text(report)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not ending in .prom, so the collector ignores it while it is being written.
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)  # mkstemp makes it 0600; node_exporter may run as another user
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
