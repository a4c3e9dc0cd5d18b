"""The plan as a console listing (rich), a commented PowerShell script, or JSON."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.text import Text

from fovalidate import __version__
from fovalidate.plan.build import CLEANUP, CREATE, MIGRATE, PREPARE, VERIFY, Plan
from fovalidate.secrets import redact
from fovalidate.textsafe import SafeText

#: Version of the plan's JSON shape; bump the major on breaking changes.
PLAN_SCHEMA_VERSION = "1.0.0"

_KIND_LABEL = {
    "fix": "fix",
    MIGRATE: "migrate",
    PREPARE: "prepare",
    CREATE: "create",
    CLEANUP: "clean up",
    VERIFY: "verify",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _comment(text: str) -> str:
    """Text for a `#` comment: a line break (or any control character) would end the comment
    and turn the rest of a host's message into code."""
    return _CONTROL.sub(" ", redact(text)).strip()


# --------------------------------------------------------------------------- JSON


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "plan_schema_version": PLAN_SCHEMA_VERSION,
        "tool": {"name": "fovalidate", "version": __version__},
        "inventory": {"path": plan.inventory_path, "sha256": plan.inventory_sha256},
        "facts": {"from": plan.facts_from, "detail": plan.facts_detail},
        "executed": False,
        "relationships": [
            {
                "name": rel.name,
                "platform": rel.platform,
                "mode": rel.mode,
                "primary": rel.primary,
                "partner": rel.partner,
                "steps": [asdict(step) for step in rel.steps],
                "notes": list(rel.notes),
                "not_verified": list(rel.not_verified),
                "blockers": [asdict(blocker) for blocker in rel.blockers],
            }
            for rel in plan.relationships
        ],
    }


def plan_json(plan: Plan) -> str:
    return redact(json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False)) + "\n"


# --------------------------------------------------------------------------- PowerShell


def plan_script(plan: Plan) -> str:
    """A PowerShell script with comments: review it, then run it in an elevated Windows
    PowerShell with the DhcpServer module. fovalidate never runs it."""
    lines = [
        "#Requires -Modules DhcpServer",
        f"# Failover plan written by fovalidate {__version__} from {_comment(plan.inventory_path)}",
        f"# Facts: {_comment(plan.facts_detail)}",
        "# fovalidate ran none of this. Review every step, then run it in an elevated Windows",
        "# PowerShell (DhcpServer module) as a member of DHCP Administrators on both servers.",
        "# It stops at the first error.",
        "$ErrorActionPreference = 'Stop'",
    ]
    for rel in plan.relationships:
        lines += [
            "",
            "# " + "=" * 76,
            f"# Relationship {_comment(rel.name)}: {rel.mode}, "
            f"{_comment(rel.primary)} -> {_comment(rel.partner)}",
            "# " + "=" * 76,
        ]
        for blocker in rel.blockers:
            lines.append(
                f"# BLOCKER ({blocker.status}, {blocker.check} {_comment(blocker.target)}): "
                f"{_comment(blocker.message)}"
            )
        if rel.blockers:
            lines.append("# Mend the blockers above first: no step below does.")
        for item in rel.not_verified:
            lines.append(f"# NOT VERIFIED: {_comment(item)}")
        for note in rel.notes:
            lines.append(f"# NOTE: {_comment(note)}")
        for number, step in enumerate(rel.steps, start=1):
            where = f"on {_comment(step.run_on)}"
            if "-ComputerName" not in step.text and step.kind in ("fix", MIGRATE):
                where += " (run it there, or add -ComputerName)"
            source = f" [{step.source}]" if step.source else ""
            label = _KIND_LABEL.get(step.kind, step.kind)
            lines.append(f"# {number}. {label} {where}: {_comment(step.purpose)}{source}")
            lines.append(redact(step.text))
        if not rel.steps:
            lines.append("# Nothing to run for this relationship.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- console


def print_plan(plan: Plan, console: Console) -> None:
    console.print(SafeText(f"Failover plan for {plan.inventory_path}", style="bold"))
    console.print(SafeText(f"facts: {plan.facts_detail}", style="dim"), soft_wrap=True)
    console.print(Text("fovalidate runs none of this; review each step, then run it yourself.", style="dim"))
    for rel in plan.relationships:
        console.print()
        heading = f"{rel.name}  ({rel.platform}, {rel.mode}, {rel.primary} -> {rel.partner})"
        console.print(SafeText(heading, style="bold cyan"))
        for blocker in rel.blockers:
            console.print(
                SafeText(
                    f"  blocker: {blocker.status.upper()} {blocker.check} {blocker.target}: "
                    f"{blocker.message}",
                    style="red",
                ),
                soft_wrap=True,
            )
        for item in rel.not_verified:
            console.print(SafeText(f"  not verified: {item}", style="yellow"), soft_wrap=True)
        for note in rel.notes:
            console.print(SafeText(f"  note: {redact(note)}"), soft_wrap=True)
        for number, step in enumerate(rel.steps, start=1):
            source = f" [{step.source}]" if step.source else ""
            console.print(
                SafeText(
                    f"  {number}. {_KIND_LABEL.get(step.kind, step.kind)} on {step.run_on}: "
                    f"{step.purpose}{source}",
                    style="bold",
                ),
                soft_wrap=True,
            )
            # Never wrapped: the admin copies it as one command.
            console.print(SafeText(f"     {redact(step.text)}", style="green"), soft_wrap=True)
        if not rel.steps:
            console.print(Text("  nothing to run", style="dim"))
