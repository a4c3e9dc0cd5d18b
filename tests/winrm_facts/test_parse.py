"""The parser against real Windows output (tests/winrm_facts/samples) and every odd shape."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from fovalidate.emulators.windows.psjson import PSArray, PSDate, dumps
from fovalidate.facts.windows import SectionError
from fovalidate.probes.interface import Cause, FactUnavailable
from fovalidate.probes.winrm import shapes
from fovalidate.probes.winrm.factscripts import fact_scripts
from fovalidate.probes.winrm.parse import (
    WINDOWS_CLOCK_TICK,
    Answer,
    BadAnswer,
    build_facts,
    decode_answer,
    parse_w32tm_status,
    read_clock,
    read_firewall_profiles,
    read_firewall_rules,
    read_os,
    read_relationships,
    read_scopes,
    read_service,
    read_stderr,
    read_time,
    source_peers,
)

SAMPLES = Path(__file__).parent / "samples"
HOST, DHCP = fact_scripts([("10.0.0.2", 647)], 5)[:2]


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def complete(text: str) -> Any:
    """Parse an excerpt that stops after an element: close what is still open."""
    text = text.strip().rstrip(",")
    stack: list[str] = []
    quoted = escaped = False
    for char in text:
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            continue
        if char == '"':
            quoted = True
        elif char in "[{":
            stack.append("]" if char == "[" else "}")
        elif char in "]}":
            stack.pop()
    return json.loads(text + "".join(reversed(stack)))


# --------------------------------------------------------------------------- DHCP cmdlets, raw


def test_scope_raw_5_1() -> None:
    (scope,) = read_scopes(json.loads(sample("2.1a-scope.json")))  # a bare object: one scope
    assert scope.network == ipaddress.IPv4Network("192.168.10.0/24")
    assert (str(scope.start), str(scope.end)) == ("192.168.10.5", "192.168.10.10")
    assert (scope.type, scope.state, scope.name) == ("Dhcp", "Active", "test")
    assert not scope.serves_bootp


def test_failover_raw_5_1_value_count_wrapper_and_timespan() -> None:
    (relationship,) = read_relationships(json.loads(sample("2.2a-failover.json")))
    assert relationship.name == "dhcp-master<-->dhcp-node"  # \u003c and \u003e
    assert relationship.scope_ids == (
        ipaddress.IPv4Address("192.168.10.0"),  # IPAddress objects without IPAddressToString
        ipaddress.IPv4Address("192.168.20.0"),
    )
    assert relationship.mclt_seconds == 3600
    assert (relationship.mode, relationship.state) == ("LoadBalance", "Normal")
    assert (relationship.load_balance_percent, relationship.reserve_percent) == (50, None)
    assert relationship.partner == "DHCP-N-P-01.test.local"


def test_firewall_rules_projected_enum_numbers() -> None:
    rules = read_firewall_rules(complete(sample("3.1-firewall-rules-excerpt.txt")))
    gpo, ipv6, upnp = rules.rules
    assert (gpo.enabled, gpo.direction, gpo.action, gpo.profiles) == (True, "Inbound", "Block", ("Any",))
    assert gpo.store == "Local Group Policy"
    assert (ipv6.enabled, ipv6.action) == (True, "Allow")
    assert (upnp.enabled, upnp.direction) == (False, "Outbound")  # Enabled 2 is False


def test_firewall_rule_raw_with_cim_members() -> None:
    rules = read_firewall_rules(complete(sample("3.1b-firewall-rule-raw-excerpt.txt")))
    (rule,) = rules.rules
    assert rule.name == "OpenSSH-Server-In-TCP"
    assert (rule.enabled, rule.direction, rule.action, rule.profiles) == (True, "Inbound", "Allow", ("Any",))


def test_port_filter_value_count_wrapper() -> None:
    filters = complete(sample("3.3-port-filters-excerpt.txt"))["Port"]
    wrapped = next(f for f in filters if f["InstanceID"] == "Microsoft-Windows-PeerDist-HostedServer-Out")
    rule = read_firewall_rules([{"Name": "x", "Enabled": 1, "LocalPort": wrapped["LocalPort"]}]).rules[0]
    assert rule.local_ports == ("80", "443")
    assert rule.covers_port(443, local=True) is True
    assert rule.covers_port(647, local=True) is False


@pytest.mark.parametrize(
    ("name", "enabled", "inbound"),
    [
        ("3.4-profile-activestore-excerpt.txt", True, "Block"),
        ("3.4b-profile-persistent-excerpt.txt", True, "NotConfigured"),
    ],
)
def test_firewall_profile_raw(name: str, enabled: bool, inbound: str) -> None:
    profiles = read_firewall_profiles(complete(sample(name)))
    (profile,) = profiles.profiles
    assert profile.enabled is enabled
    assert profile.default_inbound == inbound


def test_firewall_profile_gpo_boolean_and_categories() -> None:
    raw = {"Items": {"Profile": "Public", "Enabled": 2}, "Active": [2, "Private"]}  # single profile unwrapped
    profiles = read_firewall_profiles(raw)
    assert profiles.profiles[0].enabled is None  # GpoBoolean 2 = NotConfigured
    assert profiles.active_profiles == ("Domain", "Private")


def test_os_from_win32_operating_system_and_version_object() -> None:
    os_record = json.loads("{" + sample("4.1-os-de.txt").strip().rstrip(",") + "}")["Os"]
    info = read_os(os_record, {"Major": 5, "Minor": 1, "Build": 20348, "Revision": 2849})
    assert (info.version, info.build, info.product_type) == ("10.0.20348", 20348, 3)
    assert info.release == "2022"
    assert info.powershell == "5.1.20348.2849"
    assert (
        read_os(
            {"Version": "6.2.9200", "BuildNumber": "9200"}, {"Major": 3, "Minor": 0, "Build": -1}
        ).powershell
        == "3.0"
    )


def test_service_status_number() -> None:
    raw = json.loads(sample("4.2a-service.json"))
    service = read_service(raw)
    assert service.installed and service.state == "Running"
    assert read_service({"Status": 1}).state == "Stopped"
    assert read_service({"Status": 7, "StartType": 4}).start_mode == "Disabled"


# --------------------------------------------------------------------------- generic shapes


def test_dates() -> None:
    assert shapes.as_epoch(json.loads(sample("1.1d-localuser.json"))["PasswordLastSet"]) == 1701379505.092
    created = json.loads(sample("1.1c-date-object.json"))[0]["Created"]
    assert shapes.as_epoch(created) == 1591287561.241
    assert shapes.as_epoch("\\/Date(1326441600000)\\/") == 1326441600.0
    assert shapes.as_epoch("/Date(1326441600000+0100)/") == 1326441600.0
    assert shapes.as_epoch(621355968000000000 + 10_000_000) == 1.0  # .NET ticks
    assert shapes.as_epoch("2012-01-13T20:06:16.2218083Z") == pytest.approx(1326485176.221808)
    assert shapes.as_epoch("not a date") is None


def test_pretty_5_1_layout_with_timespan() -> None:
    record = json.loads(sample("1.1b-get-date-pretty.json"))
    assert shapes.as_seconds(record["TimeOfDay"]) == pytest.approx(72376.2218083)
    assert shapes.as_epoch(record["Date"]) == 1326441600.0
    assert shapes.as_enum(record["DayOfWeek"], {5: "Friday"}) == "Friday"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("01:00:00", 3600.0),
        ("8.00:00:00", 691200.0),
        ("00:00:01.5", 1.5),
        (3600, 3600.0),
        ({"Ticks": 36000000000}, 3600.0),
    ],
)
def test_timespans(value: Any, seconds: float) -> None:
    assert shapes.as_seconds(value) == seconds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1, 2], [1, 2]),
        ({"value": [1, 2], "Count": 2}, [1, 2]),
        ({"Value": ["a"], "count": 1}, ["a"]),
        ({"Name": "x"}, [{"Name": "x"}]),
        ("", []),
        ({}, []),
        (None, []),
        ("single", ["single"]),
    ],
)
def test_arrays(value: Any, expected: list[Any]) -> None:
    assert shapes.as_list(value) == expected


def test_flattened_objects() -> None:
    assert shapes.as_record("@{Name=rule; Enabled=True}") == {"Name": "rule", "Enabled": "True"}
    record = json.loads(sample("1.6b-dns-record.json"))[0]["RecordData"]
    assert shapes.field(record, "IPv4Address") == "2.2.2.2"
    assert shapes.field({"scopeid": "x"}, "ScopeId") == "x"  # property names in any case


def test_ip_addresses() -> None:
    assert shapes.as_ip({"Address": 16777215, "AddressFamily": 2}) == ipaddress.IPv4Address("255.255.255.0")
    assert shapes.as_ip({"Address": 1, "IPAddressToString": "10.0.0.1"}) == ipaddress.IPv4Address("10.0.0.1")
    assert shapes.as_ip("fe80::1") is None
    assert shapes.as_text({"Address": 84584640, "AddressFamily": 2}) == "192.168.10.5"


# --------------------------------------------------------------------------- w32tm


@pytest.mark.parametrize(
    ("name", "leap", "stratum", "source"),
    [
        ("w32tm-6.1a-en-verbose-unsynced.txt", 3, 0, "time.windows.com,0x8"),
        ("w32tm-6.1b-en-verbose-dc.txt", 0, 5, "DCNAME.company.com"),
        ("w32tm-6.1c-en-vmic.txt", 0, 4, "VM IC Time Synchronization Provider"),
        ("w32tm-6.1c-en-unsynced-cmos.txt", 3, 0, "Local CMOS Clock"),
        ("w32tm-6.1d-en-cmos.txt", 3, 0, "Local CMOS Clock"),
        ("w32tm-6.2a-de-verbose.txt", 0, 5, "time.windows.com,0x8"),
        ("w32tm-6.2b-de-cmos.txt", 3, 0, "Local CMOS Clock"),
        ("w32tm-6.2c-de-wrapped.txt", 0, 5, "time.windows.com,0x8"),
        ("w32tm-6.2d-de-cp850-escapes.txt", 0, 3, "de.pool.ntp.org"),
        ("w32tm-6.2e-de-before.txt", 0, 4, "time.windows.com,0x9"),
        ("w32tm-6.2e-de-after.txt", 0, 2, "ptbtime2.ptb.de,ptbtime4.ptb.de"),
        ("w32tm-6.3-fr.txt", 0, 4, "VM IC Time Synchronization Provider"),
        ("w32tm-6.4-zh.txt", 0, 2, "time.facebook.com"),
        ("w32tm-6.5-ja.txt", 0, 3, "10.30.0.3,8"),
    ],
)
def test_w32tm_status_by_shape(name: str, leap: int, stratum: int, source: str) -> None:
    parsed = parse_w32tm_status(sample(name).splitlines())
    assert (parsed["leap"], parsed["stratum"], parsed["source"]) == (leap, stratum, source)
    assert parsed["reference_id"].startswith("0x") and len(parsed["reference_id"]) == 10
    assert parsed["error"] == ""


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("w32tm-6.8a-en-service-error.txt", "0x80070426"),
        ("w32tm-6.10-de-service-error.txt", "0x80070426"),
        ("w32tm-6.10-de-access-denied.txt", "0x80070005"),
    ],
)
def test_w32tm_errors_by_hresult(name: str, code: str) -> None:
    lines = sample(name).splitlines()
    time = read_time({"Source": "\n".join(lines), "Status": lines})
    assert time.status_error == code
    assert time.kind == "error"
    assert time.leap is None


@pytest.mark.parametrize(
    ("source", "peers", "kind"),
    [
        ("time.windows.com,0x9", ("time.windows.com",), "peer"),
        ("10.30.0.3,8", ("10.30.0.3",), "peer"),
        ("ptbtime2.ptb.de,ptbtime4.ptb.de", ("ptbtime2.ptb.de", "ptbtime4.ptb.de"), "peer"),
        ("DC1.Corp.Example.Test. ", ("dc1.corp.example.test",), "peer"),
        ("Local CMOS Clock", (), "unsynchronised"),
        ("Free-running System Clock", (), "unsynchronised"),
        ("VM IC Time Synchronization Provider", (), "vm-host"),
    ],
)
def test_time_sources(source: str, peers: tuple[str, ...], kind: str) -> None:
    assert source_peers(source) == peers
    assert read_time({"Source": source, "Status": []}).kind == kind


def test_japanese_source_line() -> None:
    assert source_peers(sample("w32tm-6.5-ja-source.txt")) == ("10.30.0.3",)


# --------------------------------------------------------------------------- whole answers


def _answer(script_name: str, **sections: Any) -> dict[str, Any]:
    return {"Script": f"fovalidate-{script_name}/1", "PSVersion": "5.1", **sections}


def test_decode_accepts_pretty_bom_and_banner() -> None:
    data = _answer("host", Os={"Caption": "x", "Version": "10.0.20348", "Build": "20348", "ProductType": 3})
    for raw in (
        dumps(data).encode(),
        dumps(data, pretty=True).encode(),
        b"\xef\xbb\xbf" + dumps(data).encode(),
        b"Welcome to the server!\r\n" + dumps(data).encode() + b"\r\n",
        dumps([data]).encode(),  # an array of one
    ):
        assert decode_answer(HOST, raw, b"", 0, "dhcp1").data == data


@pytest.mark.parametrize(
    ("stdout", "stderr", "cause", "words"),
    [
        (b"Garbage {{{ ]]]", b"", Cause.BAD_OUTPUT, "not the JSON document"),
        (b"\xff\xfeGarbage {{{", b"", Cause.BAD_OUTPUT, "not UTF-8"),
        (
            '{"Script":"fovalidate-host/1","X":"Gr\x81n"}'.encode("latin-1"),
            b"",
            Cause.BAD_OUTPUT,
            "not UTF-8",
        ),
        (b"", b"", Cause.BAD_OUTPUT, "printed nothing"),
        (b"x" * (5 * 1024 * 1024), b"", Cause.BAD_OUTPUT, "KiB"),
        (b'{"Script":"fovalidate-dhcp/1"}', b"", Cause.BAD_OUTPUT, "not its answer"),
        (b'{"Other":1}', b"", Cause.BAD_OUTPUT, "not its answer"),
    ],
)
def test_decode_refuses_with_cause_and_excerpt(stdout: bytes, stderr: bytes, cause: str, words: str) -> None:
    with pytest.raises(BadAnswer) as raised:
        decode_answer(HOST, stdout, stderr, 0, "dhcp1")
    error = raised.value.error
    assert error.cause == cause
    assert words in error.detail and "dhcp1" in error.detail
    if stdout:
        assert error.excerpt and len(error.excerpt) < 400


CLIXML_ERROR = (
    b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    b'<S S="Error">Get-Thing : Access is denied. (0x80070005)_x000D__x000A_</S>'
    b'<S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>'
)
CLIXML_PROGRESS = (
    b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN>'
    b'<MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj>'
    b'<S S="warning">careful &amp; slow</S></Objs>'
)


def test_clixml_error_records_are_the_reason() -> None:
    with pytest.raises(BadAnswer) as raised:
        decode_answer(HOST, b"", CLIXML_ERROR, 1, "dhcp1")
    assert raised.value.error.cause == Cause.ACCESS_DENIED
    assert "Access is denied" in raised.value.error.detail
    assert "DHCP Administrators" in raised.value.error.fix


def test_clixml_progress_is_harmless_and_errors_are_kept() -> None:
    data = _answer("host")
    assert decode_answer(HOST, dumps(data).encode(), CLIXML_PROGRESS, 0, "dhcp1").script_errors == ()
    errors, notes = read_stderr(CLIXML_PROGRESS)
    assert errors == [] and notes == ["careful & slow"]
    kept = decode_answer(HOST, dumps(data).encode(), CLIXML_ERROR, 0, "dhcp1")
    assert kept.script_errors and "Access is denied" in kept.script_errors[0]


def test_one_bad_section_keeps_the_others() -> None:
    host = _answer(
        "host",
        Os={
            "Caption": "Microsoft Windows Server 2012 Standard",
            "Version": "6.2.9200",
            "BuildNumber": "9200",
        },
        Service={"Installed": True, "State": "Running"},
        # Error records as the scripts write them, from a German server: the
        # cause comes from the untranslated id, type and target.
        InDC={
            "Error": 'Die Benennung "Get-DhcpServerInDC" wurde nicht als Name eines Cmdlet erkannt.',
            "Id": "CommandNotFoundException",
            "Type": "CommandNotFoundException",
            "Target": "Get-DhcpServerInDC",
        },
        FirewallRules={
            "Error": "Zugriff verweigert",
            "Id": "WIN32 5,Get-NetFirewallRule",
            "Type": "CimException",
        },
        UtcTicks=621355968000000000 + 1000 * 10_000_000,
        ProcessMs=300,
    )
    answers = [
        Answer(HOST, host, sent_at=999.0, received_at=1001.0),
        Answer(DHCP, None, decode_error(), sent_at=1001.0, received_at=1002.0),
    ]
    facts = build_facts("dhcp1", answers)
    assert facts.require(facts.os).release == "2012"
    assert facts.require(facts.service).state == "Running"
    assert isinstance(facts.authorization, SectionError)
    assert facts.authorization.cause == Cause.COMMAND_MISSING
    assert "RSAT-DHCP" in facts.authorization.fix
    assert (
        isinstance(facts.firewall_rules, SectionError) and facts.firewall_rules.cause == Cause.ACCESS_DENIED
    )
    assert isinstance(facts.time, SectionError)  # not reported at all
    for section in (facts.scopes, facts.relationships, facts.settings, facts.connects):
        assert isinstance(section, SectionError) and section.cause == Cause.BAD_OUTPUT
    with pytest.raises(FactUnavailable) as raised:
        facts.require(facts.scopes)
    assert raised.value.subject == "dhcp1" and "dhcp1" in raised.value.error.detail
    clock = facts.require(facts.clock)
    assert clock.earliest == pytest.approx(999.3)  # tightened by ProcessMs
    assert clock.offset == pytest.approx(1000.0 - (999.3 + 1001.0) / 2)


def decode_error() -> Any:
    with pytest.raises(BadAnswer) as raised:
        decode_answer(DHCP, b"garbage", b"", 0, "dhcp1")
    return raised.value.error


def test_clock_ignores_impossible_process_time() -> None:
    data = _answer("host", Utc=PSDate(5_000_000).milliseconds, ProcessMs=10_000)
    reading = read_clock(
        Answer(
            HOST, json.loads(dumps({**data, "Utc": PSDate(5_000_000)})), sent_at=4999.0, received_at=5001.0
        )
    )
    assert reading is not None
    assert (reading.earliest, reading.latest) == (4999.0, 5001.0)
    assert reading.uncertainty == 1.0 + WINDOWS_CLOCK_TICK  # half the bracket, plus one tick


def test_psjson_writes_powershell_shapes() -> None:
    text = dumps({"Name": "a<b>&'c", "When": PSDate(1), "List": PSArray((1,)), "Text": "Grün"})
    assert text == (
        '{"Name":"a\\u003cb\\u003e\\u0026\\u0027c","When":"\\/Date(1)\\/",'
        '"List":{"value":[1],"Count":1},"Text":"Gr\\u00fcn"}'
    )
    assert json.loads(text)["Text"] == "Grün"


def test_emulated_host_refuses_unknown_scripts_like_powershell() -> None:
    from fovalidate.emulators.windows import WindowsHost

    result = WindowsHost()("Get-Process | Stop-Process")
    assert result.exit_code == 1 and result.stdout == b""
    assert result.stderr.startswith(b"#< CLIXML")
    errors, _ = read_stderr(result.stderr)
    assert "Get-Process" in errors[0] and "CommandNotFoundException" in errors[0]
    with pytest.raises(BadAnswer) as raised:
        decode_answer(HOST, result.stdout, result.stderr, result.exit_code, "dhcp1")
    assert "printed nothing" in raised.value.error.detail
    assert "not recognized" in raised.value.error.detail
