"""From what a fact script printed to `WindowsFacts`, tolerating every shape.

Two layers:

1. `decode_answer` turns one script's stdout/stderr/exit code into the JSON
   object the script printed, or raises `BadAnswer` with a plain cause and a
   short raw excerpt: empty output, a non-UTF-8 code page, garbage, an
   answer that is too large, the answer of another script. CLIXML on stderr
   is read: progress, verbose and warning records are harmless; error records
   are kept (and are the reason given when stdout is empty).
2. `build_facts` reads each section with the shape readers in `shapes`, so
   the projected values of the shipped scripts and the raw cmdlet objects of
   Windows PowerShell 3.0/4.0/5.1 both work. A section that is missing or
   unreadable becomes a `SectionError`; the other sections are kept.
"""

from __future__ import annotations

import functools
import html
import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fovalidate.facts.windows import (
    Authorization,
    AuthorizedServer,
    ClockReading,
    DhcpService,
    DhcpSettings,
    ExistingRelationship,
    FailoverPortSetting,
    FirewallProfile,
    FirewallProfiles,
    FirewallRule,
    FirewallRules,
    LocalAddress,
    LocalAddresses,
    NetworkConnection,
    OsInfo,
    PartnerConnect,
    Scope,
    SectionError,
    TimeService,
    WindowsFacts,
)
from fovalidate.probes.interface import Cause, FactError
from fovalidate.probes.winrm import shapes
from fovalidate.probes.winrm.errors import ErrorRecord, diagnose
from fovalidate.probes.winrm.factscripts import MARKER_PATTERN, FactScript, firewall_ports
from fovalidate.secrets import clip, redact

#: Larger answers are not parsed (a full fact set is a few KiB).
MAX_ANSWER_BYTES = 4 * 1024 * 1024
EXCERPT_CHARS = 240

# --------------------------------------------------------------------------- answers


class BadAnswer(Exception):
    def __init__(self, error: FactError):
        self.error = error
        super().__init__(error.describe())


@dataclass(frozen=True)
class Answer:
    """One script's run: its JSON object, or why there is none."""

    script: FactScript
    data: dict[str, Any] | None
    error: FactError | None = None
    #: error records from stderr (CLIXML), kept even when stdout was fine
    script_errors: tuple[str, ...] = ()
    sent_at: float = 0.0
    received_at: float = 0.0


#: Characters read past an excerpt's cut, so that a secret crossing the cut is whole when it is masked.
_MASK_MARGIN = 4096


def excerpt(data: bytes | str, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable, secret-free piece of raw output for a finding.

    Secrets are masked before the text is cut or its control characters
    are escaped, so neither can split one into pieces that pass the mask.
    """
    window = (limit + _MASK_MARGIN) * 4
    text = data[:window].decode("utf-8", "backslashreplace") if isinstance(data, bytes) else data[:window]
    text = redact(text.strip())
    more = len(text) > limit or len(data) > window
    printable = "".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text[:limit])
    # The escaping above can make a masked text read differently: mask once more.
    return redact(printable + (" ..." if more else ""))


_CLIXML_RECORD = re.compile(r'<S S="(\w+)">(.*?)</S>', re.DOTALL)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def read_stderr(stderr: bytes) -> tuple[list[str], list[str]]:
    """(error records, other notes) from stderr, CLIXML or plain text.

    Windows PowerShell writes its streams to stderr as CLIXML (`#< CLIXML`
    then `<Objs>`). Progress records (`<Obj S="progress">`) carry no message
    worth keeping; `<S S="Error">` lines are errors; verbose, warning, debug
    and information lines are notes.
    """
    text = stderr.decode("utf-8", "replace").strip()
    if not text:
        return [], []
    if not text.startswith("#< CLIXML"):
        return [clip(" ".join(text.split()), 500, more="")], []
    errors: list[str] = []
    notes: list[str] = []
    pieces: dict[str, list[str]] = {}
    for stream, raw in _CLIXML_RECORD.findall(text):
        decoded = _CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), html.unescape(raw))
        pieces.setdefault(stream.lower(), []).append(decoded)
    # PowerShell splits one error over several <S S="Error"> lines; join them back.
    for stream, parts in pieces.items():
        joined = " ".join("".join(parts).split())
        if not joined:
            continue
        (errors if stream == "error" else notes).append(clip(joined, 500, more=""))
    return errors, notes


def decode_answer(script: FactScript, stdout: bytes, stderr: bytes, exit_code: int, host: str) -> Answer:
    """The JSON object `script` printed; raises BadAnswer when there is none."""
    errors, _notes = read_stderr(stderr)
    if len(stdout) > MAX_ANSWER_BYTES:
        raise BadAnswer(
            FactError(
                Cause.BAD_OUTPUT,
                f"the {script.name} script on {host} printed {len(stdout) // 1024} KiB, "
                f"more than the {MAX_ANSWER_BYTES // 1024} KiB a fact answer can be",
                "run the script by hand on the server to see what it prints",
                excerpt=excerpt(stdout),
            )
        )
    if not stdout.strip():
        if errors:
            # The script failed as a whole: its error record says why, in
            # fields that are not translated (errors.py).
            diagnosis = diagnose(
                ErrorRecord.from_text(errors[0]), host=host, what=f"what the {script.name} script reads"
            )
            cause, fix = diagnosis.cause, diagnosis.fix
            reason = errors[0]
            if diagnosis.cause != Cause.UNEXPECTED:
                reason = f"{diagnosis.detail}: {errors[0]}"
        else:
            cause, fix, reason = Cause.BAD_OUTPUT, "", f"exit code {exit_code}"
        if cause == Cause.UNEXPECTED:
            cause = Cause.BAD_OUTPUT
        raise BadAnswer(
            FactError(
                cause,
                f"the {script.name} script on {host} printed nothing ({clip(reason, 600, more='')})",
                fix or "run the script by hand on the server (see `fovalidate explain`)",
                excerpt=excerpt(errors[0] if errors else stderr),
            )
        )
    try:
        text = stdout.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadAnswer(
            FactError(
                Cause.BAD_OUTPUT,
                f"the answer of the {script.name} script on {host} is not UTF-8 "
                f"(byte 0x{stdout[exc.start]:02x} at offset {exc.start}): the WinRM shell used another "
                "code page, or something else printed into the answer",
                "check for a PowerShell profile or logon script that prints text",
                excerpt=excerpt(stdout[max(0, exc.start - 60) : exc.start + 60]),
            )
        ) from None
    data = _json_object(text)
    if data is None:
        raise BadAnswer(
            FactError(
                Cause.BAD_OUTPUT,
                f"the answer of the {script.name} script on {host} is not the JSON document it prints"
                + (f" (stderr: {errors[0]})" if errors else ""),
                "check for a PowerShell profile, logon script or transcript that prints text",
                excerpt=excerpt(text),
            )
        )
    marker = shapes.as_text(shapes.field(data, "Script"))
    match = MARKER_PATTERN.fullmatch(marker.strip())
    if match is None or match.group("name") != script.name:
        raise BadAnswer(
            FactError(
                Cause.BAD_OUTPUT,
                f"{host} answered the {script.name} script with a JSON document that is not its answer "
                f"(Script: {marker or 'missing'})",
                "check that nothing on the server rewrites WinRM commands",
                excerpt=excerpt(text),
            )
        )
    return Answer(script, data, None, tuple(errors))


def _json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in `text`; tolerates text printed before or after it."""
    candidates = [text.strip()]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        value = shapes.unwrap(value)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, dict):
            return value
    return None


# --------------------------------------------------------------------------- sections


def section_error(section: str, raw: Any, host: str) -> SectionError:
    """The SectionError for a section the script answered with its error record.

    The cause comes from the record's untranslated fields (errors.py); the
    server's own, possibly translated, message is kept in the detail.
    """
    diagnosis = diagnose(ErrorRecord.from_section(raw), host=host, what=f"the {section}")
    return SectionError(section, diagnosis.detail, diagnosis.cause, diagnosis.fix)


def _read(section: str, raw: Any, reader: Callable[[Any], Any], host: str = "the server") -> Any:
    """Run a section reader; its own Error field, a missing value, or an
    unreadable value all become a SectionError."""
    if raw is None:
        return SectionError(section, "the script did not report it", Cause.BAD_OUTPUT)
    error = shapes.field(raw, "Error") if isinstance(shapes.unwrap(raw), dict) else None
    if error:
        return section_error(section, raw, host)
    try:
        return reader(raw)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return SectionError(
            section,
            f"unreadable ({type(exc).__name__}: {exc})",
            Cause.BAD_OUTPUT,
            excerpt=excerpt(json.dumps(raw, default=str)),
        )


def _items(raw: Any) -> list[Any]:
    """The list of a section: {"Items": [...]} from the scripts, or a raw cmdlet list."""
    record = shapes.as_record(raw)
    if record is not None:
        items = shapes.field(record, "Items", _ABSENT)
        if items is not _ABSENT:
            return shapes.as_list(items)
    return shapes.as_list(raw)


_ABSENT = object()


def read_os(raw: Any, powershell: Any) -> OsInfo:
    version = shapes.as_text(shapes.first_field(raw, "Version"))
    build = shapes.as_int(shapes.first_field(raw, "Build", "BuildNumber"))
    if not version and build is None:
        raise ValueError("no Version or BuildNumber")
    product = shapes.as_int(shapes.first_field(raw, "ProductType", "OsProductType"))
    if product is None:
        product = {"workstation": 1, "domaincontroller": 2, "server": 3}.get(
            shapes.as_text(shapes.first_field(raw, "ProductType")).replace(" ", "").lower(), 3
        )
    return OsInfo(
        caption=shapes.as_text(shapes.first_field(raw, "Caption", "OsName")).strip(),
        version=version.strip(),
        build=build or 0,
        product_type=product,
        powershell=shapes.as_text(powershell).strip(),
        part_of_domain=shapes.as_bool(shapes.field(raw, "PartOfDomain")),
        domain=shapes.as_text(shapes.field(raw, "Domain")).strip(),
        host_name=shapes.as_text(shapes.first_field(raw, "HostName", "DNSHostName", "CSName")).strip(),
    )


_HRESULT = re.compile(r"\((0x[0-9A-Fa-f]{8})\)\s*$")
_FLAG = re.compile(r"^(?:0x[0-9A-Fa-f]+|\d+)$")
_LEADING_NUMBER = re.compile(r"^\s*(\d+)\s*\(")
_REFERENCE_ID = re.compile(r"0x[0-9A-Fa-f]{8}")
_COLON = re.compile(r"\s*[:\uff1a]\s*")


def _lines(value: Any) -> list[str]:
    items = shapes.as_list(value)
    lines: list[str] = []
    for item in items:
        lines.extend(shapes.as_text(item).replace("\r", "").split("\n"))
    return lines


def parse_w32tm_status(lines: Sequence[str]) -> dict[str, Any]:
    """Leap indicator, stratum and reference id from `w32tm /query /status`.

    The labels are localised ("Leap Indicator", "Sprungindikator",
    "Indicateur de dérive :", "閏インジケーター"), so fields are found by line
    position and checked by the shape of their value: line 1 "0(no warning)",
    line 2 "4 (...)", line 6 "0x........ (...)", line 8 the source. Wrapped
    continuation lines (no colon) are joined to the line before.
    """
    result: dict[str, Any] = {"leap": None, "stratum": None, "reference_id": "", "source": "", "error": ""}
    cleaned = [line.rstrip() for line in lines if line.strip()]
    if not cleaned:
        result["error"] = "empty"
        return result
    fields: list[str] = []
    for line in cleaned:
        parts = _COLON.split(line.strip(), maxsplit=1)
        if len(parts) == 2:
            fields.append(parts[1])
        elif fields:
            fields[-1] += " " + line.strip()
        else:
            fields.append(line.strip())
    error = next((m.group(1) for line in cleaned if (m := _HRESULT.search(line))), "")
    if len(fields) < 6 or not _LEADING_NUMBER.match(fields[0]):
        result["error"] = error or "unrecognised output"
        return result
    leap, stratum = _LEADING_NUMBER.match(fields[0]), re.match(r"^\s*(\d+)", fields[1])
    result["leap"] = int(leap.group(1)) if leap else None
    result["stratum"] = int(stratum.group(1)) if stratum else None
    reference = _REFERENCE_ID.match(fields[5].strip())
    result["reference_id"] = reference.group(0) if reference else ""
    if len(fields) > 7:
        result["source"] = fields[7].strip()
    return result


def source_peers(source: str) -> tuple[str, ...]:
    """Peer names from a `w32tm /query /source` line, flags (",0x9", ",8") dropped."""
    lowered = source.strip().lower()
    if not lowered or " " in lowered.strip():
        return ()
    peers = []
    for token in re.split(r"[,;\s]+", lowered):
        token = token.strip().rstrip(".")
        if token and not _FLAG.match(token) and token not in peers:
            peers.append(token)
    return tuple(peers)


def read_time(raw: Any) -> TimeService:
    source_lines = [line.strip() for line in _lines(shapes.field(raw, "Source")) if line.strip()]
    status = parse_w32tm_status(_lines(shapes.field(raw, "Status")))
    source = source_lines[0] if source_lines else ""
    error = ""
    if source and _HRESULT.search(source):
        # "The following error occurred: The service has not been started. (0x80070426)"
        error = _HRESULT.search(source).group(1)  # type: ignore[union-attr]
        source = ""
    if not source:
        source = status["source"]
    error = error or status["error"]
    return TimeService(
        source=source,
        peers=source_peers(source),
        leap=status["leap"],
        stratum=status["stratum"],
        reference_id=status["reference_id"],
        status_error=error,
        status_lines=tuple(line.rstrip() for line in _lines(shapes.field(raw, "Status")))[:20],
    )


#: ServiceControllerStatus numbers and Win32_Service.StartMode / ServiceStartMode.
SERVICE_STATES = {
    1: "Stopped",
    2: "Start Pending",
    3: "Stop Pending",
    4: "Running",
    5: "Continue Pending",
    6: "Pause Pending",
    7: "Paused",
}
START_MODES = {0: "Boot", 1: "System", 2: "Auto", 3: "Manual", 4: "Disabled"}


def read_service(raw: Any) -> DhcpService:
    installed = shapes.as_bool(shapes.field(raw, "Installed"))
    state = shapes.as_enum(shapes.first_field(raw, "State", "Status"), SERVICE_STATES)
    if installed is None:
        installed = bool(state)
    start = shapes.as_enum(shapes.first_field(raw, "StartMode", "StartType"), START_MODES)
    if start.lower() == "automatic":
        start = "Auto"
    return DhcpService(installed=installed, state=state, start_mode=start)


def read_failover_port(raw: Any) -> FailoverPortSetting:
    """DhcpFailoverPort: {"Set": true, "Kind": "DWord", "Value": "1647"}.

    A REG_BINARY value arrives as its bytes ("111,6") and is read as a
    little-endian number, the way Windows stores numbers; a value that is
    not a port is kept as text (`raw`) with no port (`value` None).
    """
    present = shapes.as_bool(shapes.field(raw, "Set"))
    kind = shapes.as_text(shapes.field(raw, "Kind")).strip()
    field_value = shapes.first_field(raw, "Value", "DhcpFailoverPort")
    text = shapes.as_text(field_value).strip()
    if present is False or (present is None and not text):
        return FailoverPortSetting(None)
    value: int | None
    if kind == "Binary" or isinstance(shapes.unwrap(field_value), list):
        numbers = [shapes.as_int(part) for part in re.split(r"[,\s]+", text) if part]
        if numbers and all(n is not None and 0 <= n <= 255 for n in numbers) and len(numbers) <= 4:
            value = int.from_bytes(bytes(n for n in numbers if n is not None), "little")
        else:
            value = None
        kind = kind or "Binary"
    else:
        value = shapes.as_int(field_value)
    if value is not None and not 1 <= value <= 65535:
        value = None
    if value is None and not text and present is None:
        return FailoverPortSetting(None)
    if value is None and not kind:
        raise ValueError(f"DhcpFailoverPort {text!r} is not a TCP port")
    return FailoverPortSetting(value, kind=kind, raw=text)


RULE_ENABLED: dict[int, bool | None] = {1: True, 2: False}
DIRECTIONS = {1: "Inbound", 2: "Outbound"}
RULE_ACTIONS = {0: "NotConfigured", 2: "Allow", 3: "AllowBypass", 4: "Block"}
PROFILE_FLAGS = {1: "Domain", 2: "Private", 4: "Public"}
GPO_BOOLEAN = {0: False, 1: True, 2: None}
NETWORK_CATEGORIES = {0: "Public", 1: "Private", 2: "DomainAuthenticated"}


def _ports(value: Any) -> tuple[str, ...]:
    ports: list[str] = []
    for item in shapes.as_list(value):
        for part in re.split(r"[,\s]+", shapes.as_text(item)):
            if part.strip():
                ports.append(part.strip())
    return tuple(ports)


#: MSFT_NetFirewallRule.PrimaryStatus (FW-CIM; 1 OK and 2 Degraded seen in sample 3.1).
PRIMARY_STATUS = {0: "Unknown", 1: "OK", 2: "Degraded", 3: "Error"}
#: PolicyStoreSourceType: 1 Local and 2 GroupPolicy are in the captures (sample 3.1); the
#: other numbers follow the NetSecurity PolicyStoreType enum (UNCONFIRMED by a capture).
POLICY_STORE_TYPES = {
    0: "None",
    1: "Local",
    2: "GroupPolicy",
    3: "Dynamic",
    4: "Generated",
    5: "Hardcoded",
    6: "MDM",
}
#: MSFT_NetFirewallRule.EnforcementStatus as numbers (FW-CIM value map). The cmdlet's own
#: enum names differ ("Enforced", "ProfileInactive", "NotApplicable", sample 3.1).
ENFORCEMENT_STATUS = {
    0: "Invalid",
    1: "Full",
    2: "FirewallOffInProfile",
    3: "CategoryOff",
    4: "DisabledObject",
    5: "InactiveProfile",
    6: "LocalAddressResolutionEmpty",
    7: "RemoteAddressResolutionEmpty",
    8: "LocalPortResolutionEmpty",
    9: "RemotePortResolutionEmpty",
    10: "InterfaceResolutionEmpty",
    11: "ApplicationResolutionEmpty",
    12: "RemoteMachineEmpty",
    13: "RemoteUserEmpty",
    14: "LocalGlobalOpenPortsDisallowed",
    15: "LocalAuthorizedApplicationsDisallowed",
    16: "LocalFirewallRulesDisallowed",
    17: "LocalConsecRulesDisallowed",
    18: "NotTargetPlatform",
    19: "OptimizedOut",
    20: "LocalUserEmpty",
    21: "TransportMachinesEmpty",
    22: "TunnelMachinesEmpty",
    23: "TupleResolutionEmpty",
}


def _words(value: Any, names: dict[int, str] | None = None) -> tuple[str, ...]:
    """A list that came as a list, as one "a, b" string, or as enum numbers."""
    words: list[str] = []
    for item in shapes.as_list(value):
        if names is not None and shapes.as_int(item) is not None and not isinstance(item, bool):
            words.append(shapes.as_enum(item, names))
            continue
        words.extend(part.strip() for part in re.split(r"[,;]", shapes.as_text(item)) if part.strip())
    return tuple(words)


def _addresses(value: Any) -> tuple[str, ...]:
    """An address filter list: "Any", "10.0.0.0/255.0.0.0", "10.1.1.1-10.1.1.9", "LocalSubnet"."""
    return tuple(part for part in _words(value) for part in part.split() if part)


def read_firewall_rules(raw: Any, ports: tuple[int, ...] = ()) -> FirewallRules:
    rules = []
    for item in _items(raw):
        name = shapes.as_text(shapes.first_field(item, "Name", "InstanceID", "ID")).strip()
        if not name:
            continue
        rules.append(
            FirewallRule(
                name=name,
                enabled=bool(shapes.as_bool(shapes.field(item, "Enabled"), RULE_ENABLED)),
                direction=shapes.as_enum(shapes.field(item, "Direction"), DIRECTIONS),
                action=shapes.as_enum(shapes.field(item, "Action"), RULE_ACTIONS),
                profiles=shapes.as_flags(
                    shapes.first_field(item, "Profile", "Profiles"), PROFILE_FLAGS, "Any"
                ),
                protocol=shapes.as_text(shapes.field(item, "Protocol")).strip(),
                local_ports=_ports(shapes.field(item, "LocalPort")),
                remote_ports=_ports(shapes.field(item, "RemotePort")),
                store=shapes.as_text(shapes.first_field(item, "Store", "PolicyStoreSource")).strip(),
                display_name=shapes.as_text(shapes.field(item, "DisplayName")).strip(),
                store_type=shapes.as_enum(
                    shapes.first_field(item, "StoreType", "PolicyStoreSourceType"), POLICY_STORE_TYPES
                ),
                # Raw rule objects also carry "Status", the long status text.
                primary_status=shapes.as_enum(
                    shapes.first_field(item, "PrimaryStatus", "Status"), PRIMARY_STATUS
                ),
                enforcement=_words(
                    shapes.first_field(item, "Enforcement", "EnforcementStatus"), ENFORCEMENT_STATUS
                ),
                local_addresses=_addresses(shapes.field(item, "LocalAddress")),
                remote_addresses=_addresses(shapes.field(item, "RemoteAddress")),
                program=shapes.as_text(shapes.first_field(item, "Program", "AppPath")).strip(),
                service=shapes.as_text(shapes.first_field(item, "Service", "ServiceName")).strip(),
            )
        )
    return FirewallRules(tuple(rules), ports)


def read_firewall_profiles(raw: Any) -> FirewallProfiles:
    profiles = []
    for item in _items(raw):
        name = shapes.as_text(shapes.first_field(item, "Name", "Profile")).strip()
        if not name:
            continue
        profiles.append(
            FirewallProfile(
                name=name,
                enabled=shapes.as_bool(shapes.field(item, "Enabled"), GPO_BOOLEAN),
                default_inbound=shapes.as_enum(
                    shapes.first_field(item, "Inbound", "DefaultInboundAction"), RULE_ACTIONS
                ),
                default_outbound=shapes.as_enum(
                    shapes.first_field(item, "Outbound", "DefaultOutboundAction"), RULE_ACTIONS
                ),
                allow_inbound_rules=shapes.as_bool(
                    shapes.first_field(item, "AllowInbound", "AllowInboundRules"), GPO_BOOLEAN
                ),
                allow_local_rules=shapes.as_bool(
                    shapes.first_field(item, "AllowLocal", "AllowLocalFirewallRules"), GPO_BOOLEAN
                ),
            )
        )
    record = shapes.as_record(raw)
    active = shapes.field(record, "Active") if record is not None else None
    connections = []
    for item in shapes.as_list(active):
        if isinstance(shapes.unwrap(item), dict):
            category = shapes.as_enum(
                shapes.first_field(item, "Category", "NetworkCategory"), NETWORK_CATEGORIES
            )
            index = shapes.as_int(shapes.first_field(item, "Index", "InterfaceIndex"))
        else:
            category, index = shapes.as_enum(item, NETWORK_CATEGORIES), None
        if category:
            connections.append(NetworkConnection(category, index))
    return FirewallProfiles(tuple(profiles), tuple(c.category for c in connections), tuple(connections))


def read_local_addresses(raw: Any) -> LocalAddresses:
    addresses = []
    for item in _items(raw):
        address = shapes.as_ip(shapes.first_field(item, "Address", "IPAddress"))
        prefix = shapes.as_int(shapes.first_field(item, "Prefix", "PrefixLength"))
        if address is None or prefix is None or not 0 <= prefix <= 32:
            continue  # an address being set up, or not IPv4
        addresses.append(
            LocalAddress(
                ipaddress.IPv4Interface(f"{address}/{prefix}"),
                shapes.as_int(shapes.first_field(item, "Index", "InterfaceIndex")),
            )
        )
    return LocalAddresses(tuple(addresses))


def read_settings(raw: Any) -> DhcpSettings:
    return DhcpSettings(
        conflict_detection_attempts=shapes.as_int(shapes.field(raw, "ConflictDetectionAttempts")),
        is_authorized=shapes.as_bool(shapes.field(raw, "IsAuthorized")),
        is_domain_joined=shapes.as_bool(shapes.field(raw, "IsDomainJoined")),
    )


def read_authorization(raw: Any) -> Authorization:
    servers = []
    for item in _items(raw):
        servers.append(
            AuthorizedServer(
                dns_name=shapes.as_text(shapes.field(item, "DnsName")).strip().rstrip(".").lower(),
                address=shapes.as_ip(shapes.field(item, "IPAddress")),
            )
        )
    return Authorization(tuple(servers))


def read_scopes(raw: Any) -> tuple[Scope, ...]:
    scopes = []
    for item in _items(raw):
        scope_id = shapes.as_ip(shapes.field(item, "ScopeId"))
        mask = shapes.as_ip(shapes.field(item, "SubnetMask"))
        if scope_id is None or mask is None:
            raise ValueError(f"a scope without a readable ScopeId/SubnetMask: {excerpt(json.dumps(item))}")
        scopes.append(
            Scope(
                scope_id=scope_id,
                mask=mask,
                start=shapes.as_ip(shapes.field(item, "StartRange")),
                end=shapes.as_ip(shapes.field(item, "EndRange")),
                type=shapes.as_text(shapes.field(item, "Type")).strip() or "Dhcp",
                state=shapes.as_text(shapes.field(item, "State")).strip(),
                name=shapes.as_text(shapes.field(item, "Name")).strip(),
            )
        )
    return tuple(scopes)


def _percent(value: Any) -> int | None:
    return shapes.as_int(value)


def read_relationships(raw: Any) -> tuple[ExistingRelationship, ...]:
    relationships = []
    for item in _items(raw):
        name = shapes.as_text(shapes.field(item, "Name"))
        if not name:
            continue
        scope_ids = tuple(
            address
            for address in (
                shapes.as_ip(scope)
                for scope in shapes.as_list(shapes.first_field(item, "ScopeIds", "ScopeId"))
            )
            if address is not None
        )
        mclt = shapes.as_seconds(shapes.first_field(item, "MclSeconds", "MaxClientLeadTime"))
        # StateSwitchInterval is empty when automatic transition is off (§5.1); the
        # script's [long] of an empty TimeSpan is 0, which means the same. The script
        # prints Auto, Switch and Auth (short: its command line has a length limit).
        switch = shapes.as_seconds(shapes.first_field(item, "Switch", "StateSwitchInterval"))
        relationships.append(
            ExistingRelationship(
                name=name,
                partner=shapes.as_text(shapes.field(item, "PartnerServer")).strip(),
                mode=shapes.as_text(shapes.field(item, "Mode")).strip(),
                state=shapes.as_text(shapes.field(item, "State")).strip(),
                scope_ids=scope_ids,
                server_role=shapes.as_text(shapes.field(item, "ServerRole")).strip(),
                load_balance_percent=_percent(shapes.field(item, "LoadBalancePercent")),
                reserve_percent=_percent(shapes.field(item, "ReservePercent")),
                mclt_seconds=int(mclt) if mclt is not None else None,
                auto_state_transition=shapes.as_bool(shapes.first_field(item, "Auto", "AutoStateTransition")),
                state_switch_interval_seconds=int(switch) if switch else None,
                enable_auth=shapes.as_bool(shapes.first_field(item, "Auth", "EnableAuth")),
            )
        )
    return tuple(relationships)


#: .NET SocketError names (and the script's own words) to the probe's outcomes.
CONNECT_RESULTS = {
    "open": "open",
    "success": "open",
    "true": "open",
    "connectionrefused": "refused",
    "refused": "refused",
    "timeout": "timeout",
    "timedout": "timeout",
    "hostunreachable": "unreachable",
    "networkunreachable": "unreachable",
    "hostdown": "unreachable",
    "networkdown": "unreachable",
    "unreachable": "unreachable",
    # WSAEACCES: this server's own outbound firewall refused the connect at
    # once (windows-dhcp-failover.md §10).
    "accessdenied": "denied",
    # Test-NetConnection (Constrained Language Mode) says only True or False.
    "failed": "failed",
    "false": "failed",
    "skipped": "skipped",
}


def read_connects(raw: Any, timeout_ms: int | None = None) -> tuple[PartnerConnect, ...]:
    connects = []
    for item in shapes.as_list(raw):
        address = shapes.as_ip(shapes.first_field(item, "Address", "RemoteAddress", "ComputerName"))
        port = shapes.as_int(shapes.first_field(item, "Port", "RemotePort"))
        if address is None or port is None:
            raise ValueError(f"a connect result without address or port: {excerpt(json.dumps(item))}")
        word = shapes.as_text(shapes.first_field(item, "Result", "TcpTestSucceeded")).strip()
        connects.append(
            PartnerConnect(
                address=address,
                port=port,
                result=CONNECT_RESULTS.get(word.lower(), "error"),
                detail=shapes.as_text(shapes.field(item, "Detail")).strip(),
                raw=word,
                timeout_ms=timeout_ms,
                elapsed_ms=shapes.as_int(shapes.field(item, "Ms")),
            )
        )
    return tuple(connects)


#: How coarsely a Windows server's clock reading can lag its true time, seconds.
#: Every `w32tm /query /status` capture in shared/reference
#: (windows-output-samples.md, section 6) shows ClockRate 0.0156250s, and
#: Windows PowerShell's [DateTime]::UtcNow reads the system time, which moves
#: once per clock tick. Whether a given server's .NET reads a finer clock is
#: UNCONFIRMED; counting a whole tick is the safe side either way (the
#: uncertainty grows by 15.6 ms, the verdict can only become stricter).
WINDOWS_CLOCK_TICK = 0.015625


def read_clock(answer: Answer) -> ClockReading | None:
    """The clock reading of one answer, bracketed by the local send/receive times.

    ProcessMs (how long the PowerShell process had run at the reading) moves
    the early end: the process started after the command was sent. It is
    used only when it fits inside the bracket.
    """
    if answer.data is None:
        return None
    server_time = shapes.as_epoch(shapes.first_field(answer.data, "UtcTicks", "Utc", "UtcNow"))
    if server_time is None:
        return None
    earliest, latest = answer.sent_at, answer.received_at
    process = shapes.as_int(shapes.field(answer.data, "ProcessMs"))
    if process is not None and 0 <= process / 1000 <= latest - earliest:
        earliest += process / 1000
    return ClockReading(
        server_utc=server_time,
        earliest=earliest,
        latest=latest,
        sent_at=answer.sent_at,
        received_at=answer.received_at,
        script=answer.script.name,
        tick=WINDOWS_CLOCK_TICK,
    )


# --------------------------------------------------------------------------- assembling


def _failed(section: str, error: FactError) -> SectionError:
    return SectionError(section, error.detail, error.cause, error.fix, error.excerpt)


def build_facts(host: str, answers: Sequence[Answer], *, requests: int = 0) -> WindowsFacts:
    """WindowsFacts from the answers of the host, dhcp (one or more runs), firewall and config scripts."""
    host_answer = next((a for a in answers if a.script.name == "host"), None)
    dhcp_answers = [a for a in answers if a.script.name == "dhcp"]
    full_dhcp = next((a for a in dhcp_answers if shapes.field(a.data, "Scopes") is not None), None)
    if full_dhcp is None:
        full_dhcp = next((a for a in dhcp_answers if a.data is None), None)

    def from_host(section: str, key: str, reader: Callable[[Any], Any]) -> Any:
        if host_answer is None:
            return SectionError(section, "the host script was not run", Cause.INTERRUPTED)
        if host_answer.error is not None:
            return _failed(section, host_answer.error)
        return _read(section, shapes.field(host_answer.data, key), reader, host)

    def from_dhcp(section: str, key: str, reader: Callable[[Any], Any]) -> Any:
        if full_dhcp is None:
            return SectionError(section, "the dhcp script was not run", Cause.INTERRUPTED)
        if full_dhcp.error is not None:
            return _failed(section, full_dhcp.error)
        return _read(section, shapes.field(full_dhcp.data, key), reader, host)

    firewall_answer = next((a for a in answers if a.script.name == "firewall"), None)

    def from_firewall(section: str, key: str, reader: Callable[[Any], Any]) -> Any:
        if firewall_answer is None:
            # A host script of an older fovalidate read the firewall itself.
            if host_answer is not None and shapes.field(host_answer.data, f"Firewall{key}") is not None:
                return from_host(section, f"Firewall{key}", reader)
            return SectionError(section, "the firewall script was not run", Cause.INTERRUPTED)
        if firewall_answer.error is not None:
            return _failed(section, firewall_answer.error)
        return _read(section, shapes.field(firewall_answer.data, key), reader, host)

    scanned = firewall_ports(firewall_answer.script) if firewall_answer is not None else ()
    powershell = shapes.field(host_answer.data, "PSVersion") if host_answer and host_answer.data else None
    # A failed run loses the connects of its partners; all are then reported
    # as missing rather than some silently absent.
    connects: list[PartnerConnect] = []
    connect_error: SectionError | None = None
    for answer in dhcp_answers:
        if answer.error is not None:
            connect_error = connect_error or _failed("partner connects", answer.error)
            continue
        timeout_ms = shapes.as_int(shapes.field(answer.data, "TimeoutMs"))
        value = _read(
            "partner connects",
            shapes.field(answer.data, "Connect", []),
            functools.partial(read_connects, timeout_ms=timeout_ms),
            host,
        )
        if isinstance(value, SectionError):
            connect_error = connect_error or value
        else:
            connects.extend(value)
    if not dhcp_answers:
        connect_error = SectionError("partner connects", "the dhcp script was not run", Cause.INTERRUPTED)

    readings = [reading for reading in (read_clock(a) for a in answers) if reading is not None]
    clock: ClockReading | SectionError
    if readings:
        clock = min(readings, key=lambda reading: reading.uncertainty)
    else:
        failed = next((a.error for a in answers if a.error is not None), None)
        clock = (
            _failed("clock", failed)
            if failed
            else SectionError("clock", "no answer carried the server's clock", Cause.BAD_OUTPUT)
        )
    from fovalidate.probes.winrm.parse_config import build_config

    server_config, scope_details = build_config(
        next((a for a in answers if a.script.name == "config"), None), host
    )
    return WindowsFacts(
        host=host,
        server_config=server_config,
        scope_details=scope_details,
        os=from_host("operating system", "Os", lambda raw: read_os(raw, powershell)),
        time=from_host("W32Time", "Time", read_time),
        service=from_host("DHCP Server service", "Service", read_service),
        failover_port=from_host("DhcpFailoverPort registry value", "FailoverPort", read_failover_port),
        firewall_rules=from_firewall(
            "firewall rules (ActiveStore)", "Rules", lambda raw: read_firewall_rules(raw, scanned)
        ),
        firewall_profiles=from_firewall("firewall profiles", "Profiles", read_firewall_profiles),
        authorization=from_host("AD authorisation (Get-DhcpServerInDC)", "InDC", read_authorization),
        settings=from_dhcp("DHCP server settings", "Setting", read_settings),
        scopes=from_dhcp("IPv4 scopes", "Scopes", read_scopes),
        relationships=from_dhcp("failover relationships", "Failover", read_relationships),
        connects=connect_error if connect_error is not None else tuple(connects),
        clock=clock,
        script_errors=tuple(error for answer in answers for error in answer.script_errors),
        local_addresses=from_firewall("local IPv4 addresses", "Addresses", read_local_addresses),
        requests=requests,
        scripts_run=tuple(answer.script.marker for answer in answers),
        language_mode=language_mode(answers),
    )


def language_mode(answers: Sequence[Answer]) -> str:
    """The PowerShell language mode the scripts reported ("" when none did)."""
    for answer in answers:
        mode = shapes.as_text(shapes.field(answer.data, "LanguageMode")).strip() if answer.data else ""
        if mode:
            return mode
    return ""
