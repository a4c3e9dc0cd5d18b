"""`fovalidate inventory check`: the issue's example passes, realistic mistakes give located
errors (file:line, field, fix) with exit 2 and no traceback, and nothing is sent on the network."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from peers import netns
from peers.cli import clean_env
from peers.require import require_program, require_root

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "inventory.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """The example inventory with its relay config, in a folder of its own."""
    shutil.copytree(EXAMPLE.parent, tmp_path / "examples")
    return tmp_path / "examples" / "inventory.yaml"


def test_example_inventory_passes(cli) -> None:
    assert (REPO / "examples" / "configs" / "core-sw1.cfg").is_file()
    run = cli("inventory", "check", EXAMPLE)
    assert run.returncode == 0, run.stderr
    assert "OK: 3 servers, 2 relationships, 1 relays (1 config files)" in run.stdout


#: The inventory exactly as issue 2 prints it ("must be accepted exactly as written").
ISSUE_EXAMPLE = r"""
version: 1
defaults:
  winrm:
    transport: ntlm            # ntlm | kerberos | basic | certificate
    scheme: https              # https (5986) or http (5985, only with message encryption)
    port: 5986
    username: 'CORP\svc-fovalidate'
    password_env: FOVALIDATE_PASSWORD
    server_cert_validation: validate
  ntp:
    port: 123
  failover_port: 647
thresholds:
  time_skew_warn: 10s
  time_skew_fail: 60s
servers:
  - name: dhcp1
    address: 10.0.1.1
    fqdn: dhcp1.corp.example.com
    site: hq
  - name: dhcp2
    address: 10.0.1.2
    fqdn: dhcp2.corp.example.com
    site: hq
  - name: branch1-dhcp
    address: 10.51.0.10
    site: branch1
    ntp:
      port: 12302
relationships:
  - name: hq-dhcp1-dhcp2
    primary: dhcp1
    partner: dhcp2
    mode: load-balance
    load_balance_percent: 50
    max_client_lead_time: 1h
    scopes: [10.10.0.0/24, 10.20.0.0/24]
  - name: branch1-standby
    primary: branch1-dhcp
    partner: dhcp1
    mode: hot-standby
    reserve_percent: 5
    scopes: all
relays:
  - name: core-sw1
    platform: cisco_ios
    config: configs/core-sw1.cfg

"""


def test_issue_example_is_the_shipped_example(tmp_path: Path, cli) -> None:
    assert ISSUE_EXAMPLE.strip() == EXAMPLE_TEXT.strip()
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "core-sw1.cfg").write_text("hostname core-sw1\n")
    (tmp_path / "inventory.yaml").write_text(ISSUE_EXAMPLE.lstrip(), encoding="utf-8")
    assert cli("inventory", "check", tmp_path / "inventory.yaml").returncode == 0


def _replace_line(text: str, old: str, new: str) -> tuple[str, int]:
    """Replace the one line containing `old`; return the text and that line's number."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if old in line]
    assert len(hits) == 1, f"{old!r} found {len(hits)} times"
    lines[hits[0]] = lines[hits[0]].replace(old, new)
    return "\n".join(lines) + "\n", hits[0] + 1


# (what is changed, replacement, field named in the error, words of the message, words of the fix)
MISTAKES = {
    "typo-key": (
        "    fqdn: dhcp2",
        "    fqnd: dhcp2",
        "servers[1].fqnd",
        "unknown key 'fqnd'",
        "did you mean 'fqdn'",
    ),
    "bad-ip": (
        "address: 10.51.0.10",
        "address: 10.51.0.300",
        "servers[2].address",
        "not an IPv4",
        "four numbers",
    ),
    "unknown-server": (
        "partner: dhcp1",
        "partner: dhcp-1",
        "relationships[1].partner",
        "'dhcp-1' is not a server in this inventory",
        "did you mean 'dhcp1'",
    ),
    "bad-duration": (
        "max_client_lead_time: 1h",
        "max_client_lead_time: 1 hour",
        "relationships[0].max_client_lead_time",
        "not a duration",
        "",
    ),
    "password-key": (
        "password_env: FOVALIDATE_PASSWORD",
        "password: Winter2024!",
        "defaults.winrm.password",
        "never read from the inventory",
        "password_env",
    ),
    "bad-mode": (
        "mode: hot-standby",
        "mode: hot-stanby",
        "relationships[1].mode",
        "not allowed",
        "use one of",
    ),
    "bad-port-in-defaults": (
        "  failover_port: 647",
        "  failover_port: 99999",
        "failover_port",
        "less than",
        "",
    ),
    "scope-host-bits": (
        "10.20.0.0/24]",
        "10.20.0.1/24]",
        "relationships[0].scopes",
        "host bits",
        "10.20.0.0/24",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_mistakes_are_located(example_copy: Path, cli, mistake: str) -> None:
    old, new, field, message, fix = MISTAKES[mistake]
    text, line = _replace_line(EXAMPLE_TEXT, old, new)
    example_copy.write_text(text, encoding="utf-8")
    run = cli("inventory", "check", example_copy)
    assert run.returncode == 2, run.stdout
    assert f"{example_copy}:{line}:" in run.stderr, run.stderr
    assert field in run.stderr and message in run.stderr, run.stderr
    if fix:
        assert f"fix: {fix}" in run.stderr or fix in run.stderr.split("fix:", 1)[-1], run.stderr
    assert "Winter2024!" not in run.stderr + run.stdout  # a password typed into the file is not echoed


def test_tab_indentation(example_copy: Path, cli) -> None:
    text, line = _replace_line(EXAMPLE_TEXT, "    site: branch1", "\tsite: branch1")
    example_copy.write_text(text, encoding="utf-8")
    run = cli("inventory", "check", example_copy)
    assert run.returncode == 2
    assert f"{example_copy}:{line}:" in run.stderr
    assert "tabs" in run.stderr


def test_duplicate_key(example_copy: Path, cli) -> None:
    lines = EXAMPLE_TEXT.splitlines()
    first_site = lines.index("    site: hq")
    lines.insert(first_site + 1, "    site: hq2")
    example_copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("inventory", "check", example_copy)
    assert run.returncode == 2
    assert f"{example_copy}:{first_site + 2}:" in run.stderr
    assert "servers[0].site" in run.stderr and "appears twice" in run.stderr


def test_missing_relay_config(example_copy: Path, cli) -> None:
    (example_copy.parent / "configs" / "core-sw1.cfg").unlink()
    run = cli("inventory", "check", example_copy)
    _, line = _replace_line(EXAMPLE_TEXT, "config: configs/core-sw1.cfg", "")
    assert run.returncode == 2
    assert f"{example_copy}:{line}:" in run.stderr
    assert "relays[0].config" in run.stderr and "no file matches 'configs/core-sw1.cfg'" in run.stderr
    assert "relative to the inventory's folder" in run.stderr


def test_relative_paths_resolve_against_inventory_folder(example_copy: Path, cli, tmp_path: Path) -> None:
    """Run from another working directory: the relay config is still found."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "fovalidate", "inventory", "check", str(example_copy)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr


def test_several_problems_reported_at_once(example_copy: Path, cli) -> None:
    text, first = _replace_line(EXAMPLE_TEXT, "    fqdn: dhcp2", "    fqnd: dhcp2")
    text, second = _replace_line(text, "address: 10.51.0.10", "address: 10.51.0.300")
    example_copy.write_text(text, encoding="utf-8")
    run = cli("inventory", "check", example_copy)
    assert run.returncode == 2
    assert "2 problems" in run.stderr
    assert f":{first}:" in run.stderr and f":{second}:" in run.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"- just\n- a list\n", "must be a mapping"),
        (b"\xff\xfe not utf-8", "not UTF-8"),
        (b"version: 1\nservers: []\n", "at least one server"),
        (b"version: 2\nservers: [{name: a, address: 10.0.0.1}]\n", "version"),
    ],
    ids=["empty", "list", "binary", "no-servers", "version-2"],
)
def test_unusable_files(tmp_path: Path, cli, content: bytes, words: str) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_bytes(content)
    run = cli("inventory", "check", path)
    assert run.returncode == 2
    assert str(path) in run.stderr and words in run.stderr, run.stderr


def test_missing_file_and_folder(tmp_path: Path, cli) -> None:
    run = cli("inventory", "check", tmp_path / "nope.yaml")
    assert run.returncode == 2 and "file not found" in run.stderr and "fovalidate init" in run.stderr
    run = cli("inventory", "check", tmp_path)
    assert run.returncode == 2 and "folder" in run.stderr


def test_check_command_refuses_a_broken_inventory_before_any_probe(example_copy: Path, cli) -> None:
    text, line = _replace_line(EXAMPLE_TEXT, "address: 10.51.0.10", "address: 10.51.0.300")
    example_copy.write_text(text, encoding="utf-8")
    run = cli("check", example_copy)
    assert run.returncode == 2
    assert f"{example_copy}:{line}:" in run.stderr
    assert run.report is None


def test_init_writes_an_inventory_that_checks(tmp_path: Path, cli) -> None:
    target = tmp_path / "new.yaml"
    assert cli("init", target).returncode == 0
    run = cli("inventory", "check", target)
    # The annotated example may name relay files the user has yet to write; any error must be located.
    assert run.returncode in (0, 2), run.stderr
    if run.returncode == 2:
        assert f"{target}:" in run.stderr and "relays" in run.stderr
    again = cli("init", target)
    assert again.returncode == 2 and "--force" in again.stderr


def test_schema_command_prints_json_schema(cli) -> None:
    run = cli("inventory", "schema")
    assert run.returncode == 0
    schema = json.loads(run.stdout)
    assert schema["title"] == "fovalidate inventory"
    assert {"servers", "relationships", "relays", "defaults", "thresholds"} <= set(schema["properties"])


# --------------------------------------------------------------------------- offline: prove nothing is sent

_AUDITED = """
import sys
events = []
def hook(event, args):
    if event.startswith("socket.") or event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
        events.append(event)
        sys.stderr.write(f"AUDIT {event} {args!r}\\n")
        raise RuntimeError(f"inventory check must stay offline, but it did {event}")
sys.addaudithook(hook)
from fovalidate.cli import main
sys.argv = ["fovalidate", "inventory", "check", sys.argv[1]]
try:
    main()
finally:
    sys.stderr.write(f"AUDIT-EVENTS {len(events)}\\n")
"""


def test_inventory_check_opens_no_socket(example_copy: Path) -> None:
    """An audit hook in the real CLI process: no socket is created, no name looked up, no program run."""
    proc = subprocess.run(
        [sys.executable, "-c", _AUDITED, str(example_copy)],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "AUDIT-EVENTS 0" in proc.stderr, proc.stderr
    assert "OK: 3 servers" in proc.stdout


def test_audit_hook_would_notice_a_lookup(tmp_path: Path) -> None:
    """The hook above is not blind: the same harness catches a name lookup (numeric, so nothing is sent)."""
    script = _AUDITED.replace(
        "from fovalidate.cli import main",
        "import socket\n"
        "socket.getaddrinfo('127.0.0.1', 53, flags=socket.AI_NUMERICHOST)\n"
        "from fovalidate.cli import main",
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "x"], capture_output=True, text=True, env=clean_env()
    )
    assert proc.returncode != 0
    assert "AUDIT socket.getaddrinfo" in proc.stderr


def test_inventory_check_in_empty_namespace(example_copy: Path) -> None:
    """Under root: in a fresh network namespace where not even lo is up, the check still passes."""
    require_root("an empty network namespace")
    require_program("ip", "iproute2")
    name = f"{netns.PREFIX}{__import__('os').getpid()}-empty"
    netns.ip("netns", "add", name)
    try:
        proc = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                name,
                sys.executable,
                "-m",
                "fovalidate",
                "inventory",
                "check",
                str(example_copy),
            ],
            capture_output=True,
            text=True,
            env=clean_env(),
        )
        links = netns.ip("-n", name, "-o", "link", "show", "up").stdout
    finally:
        netns.ip("netns", "del", name, check=False)
    assert links.strip() == ""  # nothing was up
    assert proc.returncode == 0, proc.stderr


def test_located_error_stays_on_one_line_in_narrow_logs(example_copy: Path) -> None:
    """Without a terminal rich would wrap at 80 columns; each problem must stay one greppable line."""
    text, line = _replace_line(EXAMPLE_TEXT, "max_client_lead_time: 1h", "max_client_lead_time: 1 hour")
    example_copy.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "fovalidate", "inventory", "check", str(example_copy)],
        capture_output=True,
        text=True,
        env=clean_env({"COLUMNS": None}),
    )
    assert proc.returncode == 2
    located = [row for row in proc.stderr.splitlines() if row.startswith(f"{example_copy}:{line}:")]
    assert len(located) == 1 and located[0].endswith("01:00:00"), proc.stderr
