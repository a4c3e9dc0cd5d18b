"""HTML review report (`--html PATH`): one self-contained file for change-approval boards.

- Self-contained: styles and the small script are inline; there is no
  external stylesheet, font, image or script, so it works from a mail
  attachment and requests nothing. Reference links are plain links.
- Readable without JavaScript and printable: everything is in the HTML; the
  script only adds copy buttons next to commands and opens the folded
  passes before printing.
- At the top: the verdict, the counts, and the hosts that could not be
  (fully) checked. Then an inline SVG topology: servers by site, failover
  relationships (mode; a hub in several relationships is visible as such),
  and the relays with the scopes they serve, each coloured by its worst
  status and linked to its findings. Then the findings as the console lists
  them (problems first, one block per cause), the waivers, and the
  inventory's path and SHA-256, the tool version and the times.

All text from hosts and files is escaped (`html.escape`); nothing is
inserted as markup.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable

from fovalidate.findings import STATUS_ORDER, Finding, Status
from fovalidate.reports.console import (
    PROBLEMS,
    Item,
    Section,
    cause_detail,
    fact_label,
    not_gathered,
    sections,
    verdict,
)
from fovalidate.reports.fixes import CODE_SPAN, split_fix
from fovalidate.reports.interface import Report, ReportFormat, sorted_findings

COLOUR = {
    Status.FAIL: "#c62828",
    Status.ERROR: "#8e24aa",
    Status.WARN: "#ef8f00",
    Status.PASS: "#2e7d32",
    Status.SKIP: "#78909c",
}
NONE_COLOUR = "#b0bec5"

CSS = """
:root { --fail: #c62828; --error: #8e24aa; --warn: #ef8f00; --pass: #2e7d32; --skip: #78909c; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1f23;
       margin: 0 auto; max-width: 1200px; padding: 1.5rem; }
h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
h2 { border-bottom: 2px solid #cfd8dc; padding-bottom: .2rem; margin-top: 2rem; font-size: 1.2rem; }
.verdict { font-size: 1.15rem; font-weight: 600; padding: .6rem .9rem; border-radius: 6px; color: #fff; }
.verdict.code-0 { background: var(--pass); } .verdict.code-1 { background: var(--fail); }
.verdict.code-3 { background: var(--error); } .verdict.code-130 { background: var(--warn); }
.counts { display: flex; gap: .5rem; flex-wrap: wrap; margin: .8rem 0; padding: 0; list-style: none; }
.counts li { border: 2px solid; border-radius: 999px; padding: .1rem .8rem; font-weight: 600; }
.unchecked { background: #f3e5f5; border-left: 5px solid var(--error); padding: .5rem .9rem; }
.badge { display: inline-block; min-width: 4.2em; text-align: center; color: #fff; border-radius: 4px;
         font-size: .8rem; font-weight: 700; padding: .05rem .35rem; margin-right: .4rem; }
.b-fail { background: var(--fail); } .b-error { background: var(--error); }
.b-warn { background: var(--warn); }
.b-pass { background: var(--pass); } .b-skip { background: var(--skip); } .b-waived { background: #455a64; }
.finding { border-left: 5px solid #cfd8dc; padding: .4rem .8rem; margin: .7rem 0; background: #fafafa;
           break-inside: avoid; }
.finding.fail { border-color: var(--fail); } .finding.error { border-color: var(--error); }
.finding.warn { border-color: var(--warn); } .finding.waived { border-color: #455a64; }
.finding h3 { font-size: 1rem; margin: 0 0 .2rem; }
.finding p { margin: .25rem 0; }
.meta { color: #546e7a; font-size: .88rem; }
.note { color: #6d4c00; font-weight: 600; }
code, pre { font: .9rem/1.4 ui-monospace, "Cascadia Mono", Consolas, "DejaVu Sans Mono", monospace; }
code { background: #eceff1; padding: 0 .2rem; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: #263238; color: #eceff1; padding: .6rem .8rem; border-radius: 5px; overflow-x: auto;
      white-space: pre; }
pre code { background: none; padding: 0; }
button.copy { margin-left: .4rem; font-size: .75rem; cursor: pointer; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #cfd8dc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eceff1; }
svg { max-width: 100%; height: auto; border: 1px solid #cfd8dc; border-radius: 6px; background: #fff; }
svg text { font: 13px system-ui, Arial, sans-serif; }
svg a:hover rect, svg a:hover path { stroke-width: 4; }
footer { margin-top: 2.5rem; color: #546e7a; font-size: .85rem; border-top: 1px solid #cfd8dc; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  button.copy { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  pre { white-space: pre-wrap; background: #fff; color: #000; border: 1px solid #999; }
}
"""

# Only progressive enhancement: copy buttons, and folded passes opened for printing.
SCRIPT = """
(function () {
  function copy(text, button) {
    function done() {
      button.textContent = "copied";
      setTimeout(function () { button.textContent = "copy"; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else { fallback(text); done(); }
  }
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } catch (e) {}
    document.body.removeChild(area);
  }
  document.querySelectorAll("[data-copy]").forEach(function (element) {
    var button = document.createElement("button");
    button.type = "button"; button.className = "copy"; button.textContent = "copy";
    button.setAttribute("aria-label", "copy this command");
    button.addEventListener("click", function () { copy(element.textContent, button); });
    element.insertAdjacentElement("afterend", button);
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _inline(text: str) -> str:
    """Prose with `commands` as <code> elements a button can copy."""
    parts: list[str] = []
    position = 0
    for match in CODE_SPAN.finditer(text):
        parts.append(_e(text[position : match.start()]))
        parts.append(f"<code data-copy>{_e(match.group(1))}</code>")
        position = match.end()
    parts.append(_e(text[position:]))
    return "".join(parts)


def _fix(text: str) -> str:
    out = []
    for index, part in enumerate(split_fix(text)):
        if part.kind == "code":
            out.append(f"<pre><code data-copy>{_e(part.text)}</code></pre>")
        else:
            label = "<strong>Fix:</strong> " if index == 0 else ""
            out.append(f"<p>{label}{_inline(part.text)}</p>")
    return "".join(out)


def _worst(findings: Iterable[Finding]) -> Status | None:
    counted = [f.status for f in findings if not f.waived]
    return max(counted, key=lambda s: s.rank, default=None)


def finding_id(finding: Finding) -> str:
    return f"f-{_slug(finding.check)}-{_slug(finding.target)}"


def relay_index(report: Report) -> tuple[dict[str, list[Finding]], dict[str, set[str]]]:
    """Relay name -> the relay findings about its interfaces, and -> the scopes it relays."""
    by_relay: dict[str, list[Finding]] = defaultdict(list)
    scopes: dict[str, set[str]] = defaultdict(set)
    for finding in report.findings:
        interfaces = finding.observed.get("interfaces") if finding.check.startswith("relay.") else None
        if not isinstance(interfaces, list):
            continue
        scope = finding.target.split(" scope ", 1)[1] if " scope " in finding.target else ""
        for interface in interfaces:
            relay = interface.get("relay") if isinstance(interface, dict) else None
            if relay:
                if finding not in by_relay[str(relay)]:
                    by_relay[str(relay)].append(finding)
                if scope:
                    scopes[str(relay)].add(scope)
    return by_relay, scopes


class HtmlFormat(ReportFormat):
    name = "html"
    suffix = ".html"
    option = "--html"
    option_help = "Also write a self-contained HTML review report here."

    def render(self, report: Report) -> str:
        sentence, _ = verdict(report)
        code = report.exit_code()
        title = f"fovalidate: {sentence.split(':', 1)[0]}"
        body = [
            f"<h1>{_e(title)}</h1>",
            f'<p class="verdict code-{code}" id="verdict">{_e(sentence)} (exit code {code})</p>',
            self.counts(report),
            self.unchecked(report),
            self.notices(report),
            self.topology(report),
            self.findings(report),
            self.waivers(report),
            self.footer(report),
        ]
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            # No network: not even a favicon request (an empty data: URL is inline).
            '<link rel="icon" href="data:,">'
            f"<title>{_e(title)} — {_e(report.inventory_path)}</title>"
            f"<style>{CSS}</style></head>\n<body>\n"
            + "\n".join(part for part in body if part)
            + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
        )

    # ------------------------------------------------------------------ top

    @staticmethod
    def counts(report: Report) -> str:
        summary = report.summary
        items = "".join(
            f'<li style="border-color:{COLOUR[s]};color:{COLOUR[s]}">{summary[s.value]} {s.value}</li>'
            for s in STATUS_ORDER
        )
        waived = len(report.waived())
        if waived:
            items += f'<li style="border-color:#455a64;color:#455a64">{waived} waived</li>'
        return f'<ul class="counts" id="counts">{items}</ul>'

    @staticmethod
    def unchecked(report: Report) -> str:
        lines = []
        never = report.hosts_not_checked()
        if never:
            lines.append(f"<p><strong>Not checked at all:</strong> {_e(', '.join(never))}</p>")
        partly = {host: facts for host, facts in not_gathered(report).items() if host not in never}
        if partly:
            text = "; ".join(f"{host} ({', '.join(facts)})" for host, facts in partly.items())
            lines.append(f"<p><strong>Could not check everything on:</strong> {_e(text)}</p>")
        if report.interrupted:
            lines.append("<p><strong>The run was interrupted; this report is partial.</strong></p>")
        return f'<div class="unchecked" id="unchecked">{"".join(lines)}</div>' if lines else ""

    @staticmethod
    def notices(report: Report) -> str:
        if not report.notices:
            return ""
        return "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in report.notices) + "</ul>"

    # ------------------------------------------------------------------ picture

    def topology(self, report: Report) -> str:
        topo = report.topology
        if not topo.servers:
            return ""
        by_server: dict[str, list[Finding]] = defaultdict(list)
        by_relationship: dict[str, list[Finding]] = defaultdict(list)
        by_relay, relay_scopes = relay_index(report)
        names = {s.name for s in topo.servers}
        for finding in report.findings:
            for relationship in finding.relationships:
                by_relationship[relationship].append(finding)
            first = finding.target.split()[0] if finding.target else ""
            host = str(finding.observed.get("host", ""))
            if first in names:
                by_server[first].append(finding)
            elif host in names:
                by_server[host].append(finding)
        sites: dict[str, list[str]] = defaultdict(list)
        for server in topo.servers:
            sites[server.site or "(no site)"].append(server.name)
        column, box_w, box_h, gap = 240, 150, 40, 90
        top = 170  # room above the boxes for the site names and for relationships that bow upwards
        position: dict[str, tuple[float, float]] = {}
        svg: list[str] = []
        tallest = max(len(members) for members in sites.values())
        width = max(column * len(sites), 600)
        relay_y = top + tallest * gap + 60
        height = relay_y + (80 if topo.relays else 0)
        for index, (site, members) in enumerate(sites.items()):
            x = index * column + (column - box_w) / 2
            svg.append(
                f'<text x="{index * column + column / 2}" y="30" text-anchor="middle" font-weight="700">'
                f"site {_e(site)}</text>"
            )
            for row, name in enumerate(members):
                y = top + row * gap
                position[name] = (x + box_w / 2, y + box_h / 2)
        edges: list[str] = []
        labels: list[str] = []
        pair_count: dict[frozenset[str], int] = defaultdict(int)
        for rel in topo.relationships:
            if rel.primary not in position or rel.partner not in position:
                continue
            status = _worst(by_relationship.get(rel.name, []))
            colour = COLOUR[status] if status else NONE_COLOUR
            (x1, y1), (x2, y2) = position[rel.primary], position[rel.partner]
            key = frozenset((rel.primary, rel.partner))
            # Bow each line (further for longer lines, and for a second relationship between the
            # same pair) so that it passes above the boxes between its ends and its label is free.
            bend = 70 + 0.3 * abs(x1 - x2) + 40 * pair_count[key]
            pair_count[key] += 1
            if abs(x1 - x2) < 1:  # same site: bow out to the right
                cx, cy = x1 + box_w / 2 + bend, (y1 + y2) / 2
            else:
                cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - bend
            lx, ly = (x1 + 2 * cx + x2) / 4, (y1 + 2 * cy + y2) / 4
            dash = ' stroke-dasharray="7 5"' if rel.mode == "hot-standby" else ""
            link = f"#rel-{_slug(rel.name)}"
            edges.append(
                f'<a href="{link}" class="edge" data-relationship="{_e(rel.name)}">'
                f"<title>{_e(rel.name)}: {_e(rel.mode)}, {_e(rel.primary)} ↔ {_e(rel.partner)}"
                f" ({status.value if status else 'no findings'})</title>"
                f'<path d="M{x1:.0f},{y1:.0f} Q{cx:.0f},{cy:.0f} {x2:.0f},{y2:.0f}" fill="none" '
                f'stroke="{colour}" stroke-width="3"{dash}/></a>'
            )
            labels.append(
                f'<a href="{link}"><text x="{lx:.0f}" y="{ly:.0f}" text-anchor="middle" fill="{colour}" '
                f'stroke="#fff" stroke-width="4" paint-order="stroke">'
                f"{_e(rel.name)} ({_e(rel.mode)})</text></a>"
            )
        nodes: list[str] = []
        for server in topo.servers:
            cx, cy = position[server.name]
            status = _worst(by_server.get(server.name, []))
            colour = COLOUR[status] if status else NONE_COLOUR
            anchor = self.server_anchor(report, server.name)
            nodes.append(
                f'<a href="{anchor}" class="node" data-server="{_e(server.name)}">'
                f"<title>{_e(server.name)} {_e(server.address)} "
                f"({status.value if status else 'no findings'})</title>"
                f'<rect x="{cx - box_w / 2:.0f}" y="{cy - box_h / 2:.0f}" '
                f'width="{box_w}" height="{box_h}" rx="6" '
                f'fill="#fff" stroke="{colour}" stroke-width="3"/>'
                f'<text x="{cx:.0f}" y="{cy - 3:.0f}" text-anchor="middle" font-weight="700">'
                f"{_e(server.name)}</text>"
                f'<text x="{cx:.0f}" y="{cy + 13:.0f}" text-anchor="middle" font-size="11" fill="#546e7a">'
                f"{_e(server.address)}</text></a>"
            )
        relays: list[str] = []
        if topo.relays:
            relays.append(
                f'<text x="10" y="{relay_y - 15}" font-weight="700">relays (scopes they serve)</text>'
            )
            slot = max(width / max(len(topo.relays), 1), 180)
            for index, relay in enumerate(topo.relays):
                status = _worst(by_relay.get(relay, []))
                colour = COLOUR[status] if status else NONE_COLOUR
                x = index * slot + 10
                scopes = ", ".join(sorted(relay_scopes.get(relay, set()))) or "no scope relayed"
                relays.append(
                    f'<a href="#relays" class="relay" data-relay="{_e(relay)}">'
                    f"<title>{_e(relay)}: {_e(scopes)}</title>"
                    f'<rect x="{x:.0f}" y="{relay_y}" width="{slot - 20:.0f}" height="46" rx="4" fill="#fff" '
                    f'stroke="{colour}" stroke-width="3"/>'
                    f'<text x="{x + 8:.0f}" y="{relay_y + 18}" font-weight="700">{_e(relay)}</text>'
                    f'<text x="{x + 8:.0f}" y="{relay_y + 36}" font-size="11">{_e(scopes)}</text></a>'
                )
            width = max(width, int(slot * len(topo.relays)) + 20)
        legend = " · ".join(
            f'<span style="color:{COLOUR[s]}">■ {s.value}</span>'
            for s in (Status.FAIL, Status.ERROR, Status.WARN, Status.PASS)
        )
        return (
            '<h2 id="topology">Topology</h2>'
            '<p class="meta">Servers by site; lines are failover relationships (dashed: hot standby), '
            "coloured "
            f"by their worst finding: {legend}. Select a server, relationship or relay for its findings.</p>"
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="topology of servers, relationships and relays">'
            + "".join(svg + edges + nodes + labels + relays)
            + "</svg>"
        )

    @staticmethod
    def server_anchor(report: Report, name: str) -> str:
        for rel in report.topology.relationships:
            if name in (rel.primary, rel.partner):
                return f"#rel-{_slug(rel.name)}"
        return "#outside"

    # ------------------------------------------------------------------ findings

    def findings(self, report: Report) -> str:
        out = ['<h2 id="findings">Findings, problems first</h2>']
        for section in sections(report):
            out.append(self.section(section))
        waived = sorted_findings(f for f in report.waived() if f.status in PROBLEMS)
        if waived:
            out.append('<h2 id="waived">Waived (accepted; not counted in the exit code)</h2>')
            out.extend(self.finding_block(Item((f,)), None) for f in waived)
        out.append(self.relays(report))
        return "\n".join(out)

    @staticmethod
    def relays(report: Report) -> str:
        if not report.topology.relays:
            return ""
        by_relay, scopes = relay_index(report)
        rows = []
        for relay in report.topology.relays:
            found = sorted_findings(by_relay.get(relay, []))
            status = _worst(found)
            badge = (
                f'<span class="badge b-{status.value}">{status.value.upper()}</span>'
                if status
                else "no findings"
            )
            links = ", ".join(
                f'<a href="#{_e(finding_id(f))}">{_e(f.check)} {_e(f.target)}</a>'
                for f in found
                if f.status in PROBLEMS
            )
            rows.append(
                f"<tr><td>{_e(relay)}</td><td>{_e(', '.join(sorted(scopes.get(relay, set()))) or '-')}</td>"
                f"<td>{badge}</td><td>{links or '-'}</td></tr>"
            )
        return (
            '<section id="relays"><h2>Relays</h2><table><tr><th>relay</th><th>scopes it relays</th>'
            f"<th>worst</th><th>problems</th></tr>{''.join(rows)}</table></section>"
        )

    def section(self, section: Section) -> str:
        anchor = f"rel-{_slug(section.name)}" if section.name else "outside"
        items = sorted(section.items, key=Item.sort_key)
        out = [f'<section id="{_e(anchor)}"><h2>{_e(section.title)}</h2>']
        problems = [i for i in items if i.status in PROBLEMS]
        out.extend(self.finding_block(item, section.name) for item in problems)
        for where, count in section.listed_elsewhere.items():
            noun = "problem" if count == 1 else "problems"
            out.append(
                f'<p class="meta">{count} {noun} of a shared server listed under '
                f'<a href="#rel-{_slug(where)}">{_e(where)}</a></p>'
            )
        rest = [i for i in items if i.status not in PROBLEMS]
        if rest:
            passes = sum(i.status is Status.PASS for i in rest)
            skips = len(rest) - passes
            label = " · ".join(
                t for t in (f"{passes} pass" if passes else "", f"{skips} skip" if skips else "") if t
            )
            rows = "".join(
                f'<tr><td><span class="badge b-{i.status.value}">{i.status.value.upper()}</span></td>'
                f"<td><code>{_e(i.first.check)}</code></td><td>{_e(i.first.target)}</td><td>{_e(i.first.message)}</td></tr>"
                for i in rest
            )
            out.append(
                f"<details><summary>{label}</summary><table><tr><th>status</th><th>check</th><th>target</th>"
                f"<th>finding</th></tr>{rows}</table></details>"
            )
        out.append("</section>")
        return "\n".join(out)

    def finding_block(self, item: Item, section: str | None) -> str:
        finding = item.first
        css = "waived" if finding.waived else finding.status.value
        badge = (
            f'<span class="badge b-waived">WAIVED</span><span class="badge b-{finding.status.value}">'
            f"{finding.status.value.upper()}</span>"
            if finding.waived
            else f'<span class="badge b-{finding.status.value}">{finding.status.value.upper()}</span>'
        )
        parts = []
        if item.is_cause:
            host, fact, cause = (str(finding.observed[key]) for key in ("host", "fact", "cause"))
            checks = ", ".join(sorted({f.check for f in item.findings}))
            parts.append(
                f"<h3>{badge}{_e(host)}: {_e(fact_label(fact))} {_e(cause)} — "
                f"{len(item.findings)} checks not run</h3>"
                f'<p class="meta">not run: {_e(checks)}</p><p>{_inline(cause_detail(item))}</p>'
            )
        else:
            parts.append(f"<h3>{badge}<code>{_e(finding.check)}</code> {_e(finding.target)}</h3>")
            parts.append(f"<p>{_inline(finding.message)}</p>")
        if finding.location:
            parts.append(f'<p class="meta">at {_e(finding.location)}</p>')
        others = [r for r in item.relationships if r != section]
        if section is not None and others:
            links = ", ".join(f'<a href="#rel-{_slug(r)}">{_e(r)}</a>' for r in others)
            parts.append(f'<p class="meta">also concerns: {links}</p>')
        for noted in item.findings:
            if noted.waiver is not None:
                parts.append(f'<p class="note">{_e(noted.waiver.describe())}</p>')
        if finding.remediation:
            parts.append(_fix(finding.remediation))
        if finding.references and not item.is_cause:
            links = " · ".join(
                f'<a href="{_e(link)}" rel="noreferrer">{_e(link)}</a>' for link in finding.references
            )
            parts.append(f'<p class="meta">see: {links}</p>')
        ident = finding_id(finding)
        return (
            f'<article class="finding {css}" id="{_e(ident)}" data-check="{_e(finding.check)}" '
            f'data-target="{_e(finding.target)}" data-status="{finding.status.value}">'
            + "".join(parts)
            + "</article>"
        )

    # ------------------------------------------------------------------ waivers, footer

    @staticmethod
    def waivers(report: Report) -> str:
        if not report.waivers:
            return ""
        rows = "".join(
            f"<tr><td><code>{_e(w.check)}</code></td><td>{_e(w.target)}</td><td>{_e(w.reason)}</td>"
            f"<td>{_e(w.owner)}</td><td>{_e(w.expires)}{' (expired)' if w.expired else ''}</td>"
            f"<td>{w.matched}{' — stale: matched nothing' if w.stale else ''}</td>"
            f"<td>{_e(w.source)}</td></tr>"
            for w in report.waivers
        )
        return (
            '<h2 id="waivers">Waivers</h2><table><tr><th>check</th><th>target</th><th>reason</th>'
            "<th>owner</th>"
            f"<th>expires</th><th>findings matched</th><th>from</th></tr>{rows}</table>"
        )

    @staticmethod
    def footer(report: Report) -> str:
        seconds = (report.finished_at - report.started_at).total_seconds()
        return (
            '<footer id="provenance"><p>'
            f"Inventory <code>{_e(report.inventory_path)}</code>, "
            f"SHA-256 <code>{_e(report.inventory_sha256)}</code><br>"
            f"fovalidate {_e(report.tool_version)} · started {_e(report.started_at.isoformat())} · finished "
            f"{_e(report.finished_at.isoformat())} ({seconds:.1f} s)</p></footer>"
        )
