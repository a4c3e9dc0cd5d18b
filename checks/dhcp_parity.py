"""dhcp.parity: what failover never replicates is the same on both partners."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from fovalidate.check.interface import AppliesTo, Check, CheckContext, RelationshipTarget
from fovalidate.facts import WINDOWS, FactView
from fovalidate.facts.interface import Cause
from fovalidate.facts.windows import SectionError, WindowsFacts
from fovalidate.facts.windows_config import (
    DhcpClass,
    OptionDefinition,
    OptionValue,
    Policy,
    ScopeDetail,
    ServerConfig,
)
from fovalidate.findings import Finding, PlannedCommand, Status
from fovalidate.inventory.model import Server

from . import references as ref
from .powershell_text import computer, file_name, quote, quote_list
from .windows import candidate_scopes, join, windows

MIGRATE = "https://learn.microsoft.com/windows-server/networking/technologies/dhcp/migrate-to-dhcp-failover"
ADD_OPTION_DEFINITION = (
    "https://learn.microsoft.com/powershell/module/dhcpserver/add-dhcpserverv4optiondefinition"
)
ADD_CLASS = "https://learn.microsoft.com/powershell/module/dhcpserver/add-dhcpserverv4class"
SET_OPTION_VALUE = "https://learn.microsoft.com/powershell/module/dhcpserver/set-dhcpserverv4optionvalue"
EXPORT_SERVER = "https://learn.microsoft.com/powershell/module/dhcpserver/export-dhcpserver"
IMPORT_SERVER = "https://learn.microsoft.com/powershell/module/dhcpserver/import-dhcpserver"

#: Command order in a relationship's plan: parity fixes come first (10-19).
ORDER_DEFINITION, ORDER_CLASS, ORDER_OPTION, ORDER_EXPORT, ORDER_IMPORT = 10, 11, 12, 15, 16
#: From this many differing server-level option values on, export and import instead.
MANY_OPTION_DIFFERENCES = 5
#: Where the export file goes on the computer that runs the commands.
EXPORT_FOLDER = "C:\\DhcpParity"


@dataclass
class _Use:
    """Where a candidate scope uses an option id or a class."""

    places: list[str] = field(default_factory=list)

    def add(self, place: str) -> None:
        if place not in self.places:
            self.places.append(place)

    def text(self) -> str:
        shown = self.places[:3]
        more = len(self.places) - len(shown)
        return join(shown) + (f" and {more} more" if more else "")


@dataclass
class _Usage:
    #: (vendor class key, option id) -> where
    options: dict[tuple[str, int], _Use] = field(default_factory=dict)
    #: (class type "vendor"/"user", class name key) -> (name as written, where)
    classes: dict[tuple[str, str], tuple[str, _Use]] = field(default_factory=dict)
    #: scope details that could not be read: (where, error)
    unreadable: list[tuple[str, SectionError]] = field(default_factory=list)

    def option(self, value: OptionValue, place: str) -> None:
        self.options.setdefault((value.vendor_class.strip().lower(), value.option_id), _Use()).add(place)
        if value.vendor_class.strip():
            self.klass("vendor", value.vendor_class, place)
        if value.user_class.strip():
            self.klass("user", value.user_class, place)

    def klass(self, kind: str, name: str, place: str) -> None:
        # A policy condition may end in * (a prefix match); the class is the name before it
        # (UNCONFIRMED how the service matches a condition against the class list).
        cleaned = name.strip().rstrip("*").strip()
        if cleaned:
            self.classes.setdefault((kind, cleaned.lower()), (cleaned, _Use()))[1].add(place)


class ServerParity(Check[RelationshipTarget]):
    """Server-level settings that failover does not replicate.

    Problem: creating a relationship copies the failover scopes with their
    options, reservations and scope policies to the partner, once. Nothing
    at server level is ever copied: custom option definitions, vendor and
    user classes, server-level option values and policies, MAC address
    filters, DNS dynamic-update settings and credentials, conflict
    detection. fovalidate reads them on both partners and:

    - FAIL when an option id or a vendor/user class that a candidate scope,
      one of its reservations or one of its policies uses is missing on the
      partner, or is defined differently there (the option's type,
      multi-valued flag or vendor class; the class's data). The field is
      named;
    - WARN when server-level option values, server-level policies, the MAC
      filter lists or their enablement, the DNS dynamic-update settings, the
      DNS credential's user name or the conflict detection attempts differ;
    - SKIP for the DNS credential on Windows Server 2012, which has no
      Get-DhcpServerDnsCredential (compare it by hand);
    - PASS when the partners agree.

    Impact: with a definition or class missing on the partner the wizard
    stops with "Configure failover failed. Error: 20010. The specified
    option does not exist." (whether a missing class gives 20010 or 20044 is
    unconfirmed). With differing server-level settings the relationship is
    created, but clients get other options, policies, filters or DNS
    registrations from the partner than from the primary, and a partner with
    other DNS credentials cannot update the records the primary owns.

    Fix: the finding carries the exact PowerShell to run against the
    partner (also printed by `fovalidate plan`): `Add-DhcpServerv4OptionDefinition`
    and `Add-DhcpServerv4Class` for what is missing, `Set-DhcpServerv4OptionValue`
    for server-level option values; where policies, filters or DNS settings
    differ, or many option values do, `Export-DhcpServer` on the primary and
    `Import-DhcpServer -ServerConfigOnly` on the partner (the "import server
    level settings to the failover partner" step of Microsoft's migration
    guide). A definition or class that exists with other settings must be
    removed on the partner first (`Remove-DhcpServerv4OptionDefinition`,
    `Set-DhcpServerv4Class`); the DNS credential is set with
    `Set-DhcpServerDnsCredential` or in the DHCP console (its password is
    never exported).

    References: Migrate to DHCP failover; DHCP failover overview; DHCP
    Server Management API error codes; Add-DhcpServerv4OptionDefinition;
    Add-DhcpServerv4Class; Set-DhcpServerv4OptionValue; Export-DhcpServer;
    Import-DhcpServer.
    """

    id = "dhcp.parity"
    title = "Server-level settings failover does not replicate match on both partners"
    applies_to = AppliesTo.RELATIONSHIP
    platforms = ("windows",)
    needs = (WINDOWS,)
    references = (
        MIGRATE,
        ref.FAILOVER_OVERVIEW,
        ref.ERROR_CODES,
        ADD_OPTION_DEFINITION,
        ADD_CLASS,
        SET_OPTION_VALUE,
        EXPORT_SERVER,
        IMPORT_SERVER,
    )

    def evaluate(
        self, target: RelationshipTarget, facts: FactView, context: CheckContext
    ) -> Iterator[Finding]:
        primary = windows(facts, target.primary)
        partner = windows(facts, target.partner)
        ours = primary.require(primary.server_config)
        theirs = partner.require(partner.server_config)
        found: list[Finding] = []
        found += self._used(target, primary, ours, theirs)
        transfer = _Transfer(target)
        found += self._server_options(target, ours, theirs, transfer)
        found += self._policies(target, ours, theirs, transfer)
        found += self._filters(target, ours, theirs, transfer)
        found += self._dns(target, ours, theirs, transfer)
        found += self._credential(target, ours, theirs)
        found += self._conflict_detection(target, primary, partner)
        if not any(f.status in (Status.FAIL, Status.WARN, Status.ERROR) for f in found):
            found.append(
                self.finding(
                    target,
                    Status.PASS,
                    f"{target.partner.name} has every option definition and class the relationship's "
                    f"scopes use, and the same server-level options, policies, MAC filters and DNS "
                    f"update settings as {target.primary.name}",
                    observed={"option_definitions": _count(ours.option_definitions)},
                    subject="server settings",
                )
            )
        yield from found

    # -- FAIL: what the candidate scopes use --------------------------------------------

    def _used(
        self, target: RelationshipTarget, primary: WindowsFacts, ours: ServerConfig, theirs: ServerConfig
    ) -> list[Finding]:
        scopes, _missing = candidate_scopes(target.relationship, primary)  # dhcp.scopes reports missing ones
        details = {d.scope_id: d for d in primary.require(primary.scope_details)}
        usage = _Usage()
        for scope in scopes:
            detail = details.get(scope.scope_id)
            if detail is not None:
                _collect(detail, usage)
        found = [self._unreadable(target, where, error, target.primary) for where, error in usage.unreadable]
        partner = target.partner
        for section, value, host in (
            ("option definitions", ours.option_definitions, target.primary),
            ("option definitions", theirs.option_definitions, partner),
            ("classes", ours.classes, target.primary),
            ("classes", theirs.classes, partner),
        ):
            if isinstance(value, SectionError) and (
                usage.options if section.startswith("option") else usage.classes
            ):
                found.append(self._unreadable(target, section, value, host))
        if any(f.status is Status.ERROR and "option definitions" in f.target for f in found):
            return found
        if not isinstance(ours.option_definitions, SectionError) and not isinstance(
            theirs.option_definitions, SectionError
        ):
            mine = {d.key: d for d in ours.option_definitions}
            other = {d.key: d for d in theirs.option_definitions}
            for key, use in sorted(usage.options.items(), key=lambda item: (item[0][0], item[0][1])):
                found.extend(self._definition(target, mine.get(key), other.get(key), key, use))
        if not isinstance(ours.classes, SectionError) and not isinstance(theirs.classes, SectionError):
            mine_classes = {c.key: c for c in ours.classes}
            other_classes = {c.key: c for c in theirs.classes}
            for class_key, (name, use) in sorted(usage.classes.items()):
                found.extend(
                    self._class(
                        target,
                        mine_classes.get(class_key),
                        other_classes.get(class_key),
                        name,
                        class_key,
                        use,
                    )
                )
        return found

    def _definition(
        self,
        target: RelationshipTarget,
        mine: OptionDefinition | None,
        other: OptionDefinition | None,
        key: tuple[str, int],
        use: _Use,
    ) -> list[Finding]:
        vendor, option_id = key
        label = f"option {option_id}" + (
            f" of vendor class {mine.vendor_class if mine else vendor}" if vendor else ""
        )
        subject = f"option {option_id}" + (f" ({mine.vendor_class if mine else vendor})" if vendor else "")
        partner = target.partner.name
        if mine is None:
            # A value without a definition on the primary itself: nothing to copy from.
            return [
                self.finding(
                    target,
                    Status.FAIL,
                    f"{label} is used by {use.text()} but not defined on {target.primary.name} either "
                    "(error 20010 when the relationship is created)",
                    observed={"option_id": option_id, "vendor_class": vendor, "used_by": use.places},
                    expected=f"{label} defined on both partners",
                    remediation=f"define {label} on both partners (`Add-DhcpServerv4OptionDefinition`) or "
                    "remove its values",
                    subject=subject,
                )
            ]
        named = f"{label} ({mine.name})" if mine.name else label
        if other is None:
            command = _add_definition(target.partner, mine)
            return [
                _with_commands(
                    self.finding(
                        target,
                        Status.FAIL,
                        f"{named} is used by {use.text()} but is not defined on {partner}: creating the "
                        "relationship fails with error 20010 (The specified option does not exist)",
                        observed={
                            "option_id": option_id,
                            "name": mine.name,
                            "type": mine.type,
                            "multi_valued": mine.multi_valued,
                            "vendor_class": mine.vendor_class,
                            "used_by": use.places,
                            "missing_on": partner,
                        },
                        expected=f"{label} defined on {partner} as on {target.primary.name}",
                        remediation=f"on {partner}:\n{command.text}",
                        subject=subject,
                    ),
                    command,
                )
            ]
        differences = [
            (name, getattr(mine, attribute), getattr(other, attribute))
            for name, attribute in (("type", "type"), ("multi-valued", "multi_valued"))
            if _norm(getattr(mine, attribute)) != _norm(getattr(other, attribute))
        ]
        if not differences:
            return []
        fields = "; ".join(
            f"{name} {a} on {target.primary.name}, {b} on {partner}" for name, a, b in differences
        )
        command = _add_definition(target.partner, mine)
        return [
            _with_commands(
                self.finding(
                    target,
                    Status.FAIL,
                    f"{named}, used by {use.text()}, is defined differently on {partner}: {fields}",
                    observed={
                        "option_id": option_id,
                        "vendor_class": mine.vendor_class,
                        "fields": {name: {"primary": a, "partner": b} for name, a, b in differences},
                        "used_by": use.places,
                    },
                    expected=f"the same definition of {label} on both partners",
                    remediation=f"on {partner}, remove the differing definition (which also removes "
                    "its values there), then define it as on the primary:\n"
                    f"Remove-DhcpServerv4OptionDefinition -OptionId {option_id}"
                    + (f" -VendorClass {quote(mine.vendor_class)}" if mine.vendor_class else "")
                    + f"\n{command.text}",
                    subject=subject,
                ),
                command,
            )
        ]

    def _class(
        self,
        target: RelationshipTarget,
        mine: DhcpClass | None,
        other: DhcpClass | None,
        name: str,
        key: tuple[str, str],
        use: _Use,
    ) -> list[Finding]:
        kind = key[0]
        label = f"{kind} class '{name}'"
        partner = target.partner.name
        if other is not None and (mine is None or _norm(mine.data) == _norm(other.data)):
            return []
        if mine is None:
            if other is None:
                return [
                    self.finding(
                        target,
                        Status.FAIL,
                        f"{label} is used by {use.text()} but exists on neither partner",
                        observed={"class": name, "type": kind, "used_by": use.places},
                        expected=f"{label} on both partners",
                        remediation="create the class on both partners (`Add-DhcpServerv4Class`) or fix the "
                        "policy condition or option value that names it",
                        subject=f"class {name}",
                    )
                ]
            return []
        if other is None:
            command = PlannedCommand(
                run_on=target.partner.name,
                text=f"Add-DhcpServerv4Class -ComputerName {computer(target.partner)} "
                f"-Name {quote(mine.name)} -Type {mine.type or kind.title()} -Data {quote(mine.data)}"
                + (f" -Description {quote(mine.description)}" if mine.description else ""),
                purpose=f"create the {kind} class '{mine.name}' as on {target.primary.name}",
                order=ORDER_CLASS,
            )
            return [
                _with_commands(
                    self.finding(
                        target,
                        Status.FAIL,
                        f"{label} is used by {use.text()} but does not exist on {partner}: the relationship "
                        "cannot be created with it (error 20010 or 20044, which one is unconfirmed)",
                        observed={
                            "class": mine.name,
                            "type": mine.type,
                            "data": mine.data,
                            "used_by": use.places,
                        },
                        expected=f"{label} on {partner} as on {target.primary.name}",
                        remediation=f"on {partner}:\n{command.text}",
                        subject=f"class {mine.name}",
                    ),
                    command,
                )
            ]
        return [
            self.finding(
                target,
                Status.FAIL,
                f"{label}, used by {use.text()}, has other data on {partner}: data {mine.data!r} on "
                f"{target.primary.name}, {other.data!r} on {partner} (it matches other clients there)",
                observed={
                    "class": mine.name,
                    "fields": {"data": {"primary": mine.data, "partner": other.data}},
                },
                expected="the same class data on both partners",
                remediation=f"on {partner}:\nSet-DhcpServerv4Class -Name {quote(mine.name)} -Type "
                f"{mine.type or kind.title()} -Data {quote(mine.data)}",
                subject=f"class {mine.name}",
            )
        ]

    # -- WARN: server-level settings --------------------------------------------------

    def _server_options(
        self, target: RelationshipTarget, ours: ServerConfig, theirs: ServerConfig, transfer: _Transfer
    ) -> list[Finding]:
        if isinstance(ours.options, SectionError) or isinstance(theirs.options, SectionError):
            return self._unreadable_pair(target, ours.options, theirs.options)
        mine = {v.key: v for v in ours.options}
        other = {v.key: v for v in theirs.options}
        differences: list[str] = []
        commands: list[PlannedCommand] = []
        fields: dict[str, dict[str, list[str] | None]] = {}
        for key in sorted(set(mine) | set(other), key=lambda k: (k[3], k[0], k[1])):
            a, b = mine.get(key), other.get(key)
            if (
                a is not None
                and b is not None
                and [_norm(x) for x in a.values] == [_norm(x) for x in b.values]
            ):
                continue
            value = a or b
            assert value is not None
            label = _option_label(value)
            fields[label] = {
                "primary": list(a.values) if a else None,
                "partner": list(b.values) if b else None,
            }
            if a is None:
                differences.append(f"{label} is set only on {target.partner.name}")
                continue
            shown = ", ".join(a.values)
            differences.append(
                f"{label} is {shown} on {target.primary.name}, "
                + (", ".join(b.values) if b else "not set")
                + f" on {target.partner.name}"
            )
            commands.append(_set_option(target, a))
        if not differences:
            return []
        many = len(differences) >= MANY_OPTION_DIFFERENCES
        if many:
            commands = transfer.claim()
        removal = (
            f"remove what is set only on {target.partner.name} (`Remove-DhcpServerv4OptionValue`) "
            "if the primary is right"
            if any("only on" in d for d in differences)
            else ""
        )
        if many:
            remediation = transfer.remediation()
        elif commands:
            # Prose first, then one command per line (the configuration-line form of a fix).
            remediation = (
                f"on {target.partner.name}"
                + (f" ({removal})" if removal else "")
                + ", in this order:\n"
                + "\n".join(c.text for c in commands)
            )
        else:
            remediation = removal
        return [
            _with_commands(
                self.finding(
                    target,
                    Status.WARN,
                    f"server-level option values differ ({len(differences)}): "
                    + "; ".join(differences[:4])
                    + (" ..." if len(differences) > 4 else "")
                    + f". Failover does not copy them: clients of {target.partner.name} get other options",
                    observed={"fields": fields},
                    expected="the same server-level option values on both partners",
                    remediation=remediation,
                    subject="server options",
                ),
                *commands,
            )
        ]

    def _policies(
        self, target: RelationshipTarget, ours: ServerConfig, theirs: ServerConfig, transfer: _Transfer
    ) -> list[Finding]:
        if isinstance(ours.policies, SectionError) or isinstance(theirs.policies, SectionError):
            return self._unreadable_pair(target, ours.policies, theirs.policies)
        mine = {p.name.strip().lower(): p for p in ours.policies}
        other = {p.name.strip().lower(): p for p in theirs.policies}
        differences: list[str] = []
        fields: dict[str, object] = {}
        for key in sorted(set(mine) | set(other)):
            a, b = mine.get(key), other.get(key)
            if a is None or b is None:
                present = a or b
                assert present is not None
                where = target.primary.name if a else target.partner.name
                differences.append(f"policy '{present.name}' exists only on {where}")
                fields[present.name] = {"only_on": where}
                continue
            changed = _policy_differences(a, b)
            if changed:
                differences.append(f"policy '{a.name}' differs in {join(changed)}")
                fields[a.name] = {"fields": changed}
        if not differences:
            return []
        return self._settings_differ(
            target,
            transfer,
            "server-level policies differ: "
            + "; ".join(differences)
            + f". Failover does not copy them: clients of {target.partner.name} are classified differently",
            observed={"policies": fields},
            expected="the same server-level policies on both partners",
            subject="server policies",
        )

    def _filters(
        self, target: RelationshipTarget, ours: ServerConfig, theirs: ServerConfig, transfer: _Transfer
    ) -> list[Finding]:
        a, b = ours.mac_filters, theirs.mac_filters
        if isinstance(a, SectionError) or isinstance(b, SectionError):
            return self._unreadable_pair(target, a, b)
        differences: list[str] = []
        fields: dict[str, object] = {}
        for name, x, y in (
            ("allow list enabled", a.allow_enabled, b.allow_enabled),
            ("deny list enabled", a.deny_enabled, b.deny_enabled),
        ):
            if x is not None and y is not None and x != y:
                differences.append(f"{name}: {x} on {target.primary.name}, {y} on {target.partner.name}")
                fields[name] = {"primary": x, "partner": y}
        for name, x_list, y_list in (("allow list", a.allow, b.allow), ("deny list", a.deny, b.deny)):
            x_set, y_set = {_mac(m) for m in x_list}, {_mac(m) for m in y_list}
            if x_set != y_set:
                only_primary, only_partner = sorted(x_set - y_set), sorted(y_set - x_set)
                differences.append(
                    f"{name}: {len(only_primary)} entr(ies) only on {target.primary.name}, "
                    f"{len(only_partner)} only on {target.partner.name}"
                )
                fields[name] = {"only_primary": only_primary, "only_partner": only_partner}
        if not differences:
            return []
        return self._settings_differ(
            target,
            transfer,
            "MAC address filters differ: "
            + "; ".join(differences)
            + ". A client refused by one partner is served by the other",
            observed={"fields": fields},
            expected="the same MAC filters on both partners",
            subject="MAC filters",
        )

    def _dns(
        self, target: RelationshipTarget, ours: ServerConfig, theirs: ServerConfig, transfer: _Transfer
    ) -> list[Finding]:
        a, b = ours.dns, theirs.dns
        if isinstance(a, SectionError) or isinstance(b, SectionError):
            return self._unreadable_pair(target, a, b)
        fields: dict[str, dict[str, object]] = {}
        for name in (
            "dynamic_updates",
            "delete_on_lease_expiry",
            "update_for_older_clients",
            "name_protection",
            "disable_ptr_update",
            "dns_suffix",
        ):
            x, y = getattr(a, name), getattr(b, name)
            if x is None or y is None:
                continue  # not on this release (Server 2012)
            if _norm(x) != _norm(y):
                fields[name] = {"primary": x, "partner": y}
        if not fields:
            return []
        listed = "; ".join(
            f"{name} {value['primary']} on {target.primary.name}, {value['partner']} on {target.partner.name}"
            for name, value in fields.items()
        )
        return self._settings_differ(
            target,
            transfer,
            f"DNS dynamic-update settings differ: {listed}. Clients' DNS records are handled "
            "differently by each partner",
            observed={"fields": fields},
            expected="the same DNS dynamic-update settings on both partners",
            subject="DNS settings",
            alternative=f"set them on {target.partner.name} with `Set-DhcpServerv4DnsSetting`",
        )

    def _settings_differ(
        self,
        target: RelationshipTarget,
        transfer: _Transfer,
        message: str,
        *,
        observed: dict[str, object],
        expected: str,
        subject: str,
        alternative: str = "",
    ) -> list[Finding]:
        """A WARN for server-level settings that differ, mended by copying the
        server-level settings (the Export/Import commands go with the first such finding)."""
        commands = transfer.claim()
        return [
            _with_commands(
                self.finding(
                    target,
                    Status.WARN,
                    message,
                    observed=observed,
                    expected=expected,
                    remediation=transfer.remediation(alternative),
                    subject=subject,
                ),
                *commands,
            )
        ]

    def _credential(
        self, target: RelationshipTarget, ours: ServerConfig, theirs: ServerConfig
    ) -> list[Finding]:
        a, b = ours.dns_credential, theirs.dns_credential
        for value, server in ((a, target.primary), (b, target.partner)):
            if isinstance(value, SectionError):
                if value.cause == Cause.COMMAND_MISSING:
                    return [
                        self.finding(
                            target,
                            Status.SKIP,
                            "cannot compare the DNS dynamic-update credential: "
                            f"{server.name}: {value.detail}",
                            observed={"host": server.name, "cause": value.cause},
                            remediation=value.fix,
                            subject="DNS credential",
                        )
                    ]
                return [self._unreadable(target, "DNS credential", value, server)]
        assert not isinstance(a, SectionError) and not isinstance(b, SectionError)
        if (_norm(a.user_name), _norm(a.domain_name)) == (_norm(b.user_name), _norm(b.domain_name)):
            return []

        def who(credential: object) -> str:
            user = getattr(credential, "user_name", "")
            domain = getattr(credential, "domain_name", "")
            return f"{domain}\\{user}" if domain and user else user or "(none)"

        return [
            self.finding(
                target,
                Status.WARN,
                f"the DNS dynamic-update credential differs: {who(a)} on {target.primary.name}, {who(b)} on "
                f"{target.partner.name}. Both partners must use the same credential, or the partner cannot "
                "update the DNS records the other one registered",
                observed={"primary": who(a), "partner": who(b)},
                expected="the same DNS credential on both partners",
                remediation=f"on {target.partner.name}: "
                "`Set-DhcpServerDnsCredential -Credential (Get-Credential)` "
                f"with {who(a)}, or the DHCP console (IPv4 > Properties > Advanced > Credentials)",
                subject="DNS credential",
            )
        ]

    def _conflict_detection(
        self, target: RelationshipTarget, primary: WindowsFacts, partner: WindowsFacts
    ) -> list[Finding]:
        a, b = primary.settings, partner.settings
        if isinstance(a, SectionError) or isinstance(b, SectionError):
            return []  # dhcp.service and bootp.support report the settings section
        x, y = a.conflict_detection_attempts, b.conflict_detection_attempts
        if x is None or y is None or x == y:
            return []
        return [
            self.finding(
                target,
                Status.WARN,
                f"conflict detection differs: {x} attempt(s) on {target.primary.name}, {y} on "
                f"{target.partner.name}; it is a server-level setting that failover does not copy",
                observed={"primary": x, "partner": y},
                expected="the same ConflictDetectionAttempts on both partners",
                remediation=f"`Set-DhcpServerSetting -ConflictDetectionAttempts {x}` on "
                f"{target.partner.name} (or the value you want on both)",
                subject="conflict detection",
            )
        ]

    # -- could not check ----------------------------------------------------------------

    def _unreadable(
        self, target: RelationshipTarget, where: str, error: SectionError, server: Server
    ) -> Finding:
        return self.finding(
            target,
            Status.ERROR,
            f"could not check: {server.name}: {error.cause}: {error.section}: {error.detail}",
            observed={"host": server.name, "cause": error.cause, "section": error.section},
            remediation=error.fix,
            subject=where,
        )

    def _unreadable_pair(self, target: RelationshipTarget, a: object, b: object) -> list[Finding]:
        found = []
        for value, server in ((a, target.primary), (b, target.partner)):
            if isinstance(value, SectionError):
                found.append(self._unreadable(target, value.section, value, server))
        return found


class _Transfer:
    """Export-DhcpServer on the primary and Import-DhcpServer -ServerConfigOnly on the
    partner: the commands go with the first finding that needs them."""

    def __init__(self, target: RelationshipTarget):
        self.target = target
        self.given = False
        stem = file_name(target.primary.name)
        self.file = f"{EXPORT_FOLDER}\\{stem}-server-config.xml"
        self.backup = f"{EXPORT_FOLDER}\\{file_name(target.partner.name)}-backup"

    def commands(self) -> list[PlannedCommand]:
        primary, partner = self.target.primary, self.target.partner
        return [
            PlannedCommand(
                run_on=primary.name,
                text=f"Export-DhcpServer -ComputerName {computer(primary)} -File {quote(self.file)}",
                purpose=f"export {primary.name}'s configuration (server-level settings included)",
                order=ORDER_EXPORT,
            ),
            PlannedCommand(
                run_on=partner.name,
                text=f"Import-DhcpServer -ComputerName {computer(partner)} -File {quote(self.file)} "
                f"-BackupPath {quote(self.backup)} -ServerConfigOnly",
                purpose=f"import only the server-level settings into {partner.name} (its own configuration "
                "is backed up first)",
                order=ORDER_IMPORT,
            ),
        ]

    def claim(self) -> list[PlannedCommand]:
        if self.given:
            return []
        self.given = True
        return self.commands()

    def remediation(self, alternative: str = "") -> str:
        """The copy as prose then one command per line (the configuration-line form of a
        fix, reports/fixes.py), so no console wraps a long command inside a prose line;
        `alternative` (prose) goes in front: "set them with ..., or copy ..."."""
        export, import_ = self.commands()
        return (
            (f"{alternative}, or " if alternative else "")
            + f"copy the server-level settings from {self.target.primary.name} to {self.target.partner.name} "
            "(-ServerConfigOnly leaves the partner's scopes alone), from one management computer, "
            f"in this order:\n{export.text}\n{import_.text}"
        )


def _collect(detail: ScopeDetail, usage: _Usage) -> None:
    scope = f"scope {detail.scope_id}"
    if isinstance(detail.options, SectionError):
        usage.unreadable.append((f"{scope} options", detail.options))
    else:
        for value in detail.options:
            usage.option(value, f"{scope}")
    if isinstance(detail.reservations, SectionError):
        usage.unreadable.append((f"{scope} reservations", detail.reservations))
    else:
        for reservation in detail.reservations:
            for value in reservation.options:
                usage.option(value, f"reservation {reservation.address} in {scope}")
    if isinstance(detail.policies, SectionError):
        usage.unreadable.append((f"{scope} policies", detail.policies))
    else:
        for policy in detail.policies:
            place = f"policy '{policy.name}' in {scope}"
            for value in policy.options:
                usage.option(value, place)
            for kind, name in policy.classes_used():
                usage.klass(kind, name, place)


def _add_definition(partner: Server, definition: OptionDefinition) -> PlannedCommand:
    text = (
        f"Add-DhcpServerv4OptionDefinition -ComputerName {computer(partner)} -Name {quote(definition.name)} "
        f"-OptionId {definition.option_id} -Type {definition.type}"
    )
    if definition.multi_valued:
        text += " -MultiValued"
    if definition.vendor_class:
        text += f" -VendorClass {quote(definition.vendor_class)}"
    if definition.description:
        text += f" -Description {quote(definition.description)}"
    if definition.default_value:
        text += f" -DefaultValue {quote_list(definition.default_value)}"
    return PlannedCommand(
        run_on=partner.name,
        text=text,
        purpose=f"define option {definition.option_id} ({definition.name}) as on the primary",
        order=ORDER_DEFINITION,
    )


def _set_option(target: RelationshipTarget, value: OptionValue) -> PlannedCommand:
    partner = target.partner
    text = (
        f"Set-DhcpServerv4OptionValue -ComputerName {computer(partner)} -OptionId {value.option_id} "
        f"-Value {quote_list(value.values)}"
    )
    if value.vendor_class:
        text += f" -VendorClass {quote(value.vendor_class)}"
    if value.user_class:
        text += f" -UserClass {quote(value.user_class)}"
    return PlannedCommand(
        run_on=partner.name,
        text=text,
        purpose=f"set the server-level {_option_label(value)} as on {target.primary.name}",
        order=ORDER_OPTION,
    )


def _option_label(value: OptionValue) -> str:
    label = f"option {value.option_id}" + (f" ({value.name})" if value.name else "")
    if value.vendor_class:
        label += f" for vendor class '{value.vendor_class}'"
    if value.user_class:
        label += f" for user class '{value.user_class}'"
    return label


def _policy_differences(a: Policy, b: Policy) -> list[str]:
    changed = []
    if a.enabled != b.enabled:
        changed.append("enabled")
    if a.processing_order != b.processing_order:
        changed.append("processing order")
    if _norm(a.condition) != _norm(b.condition):
        changed.append("condition (And/Or)")
    if sorted(_conditions(a)) != sorted(_conditions(b)):
        changed.append("criteria")
    if a.lease_duration_seconds != b.lease_duration_seconds:
        changed.append("lease duration")
    if sorted((v.key, tuple(map(_norm, v.values))) for v in a.options) != sorted(
        (v.key, tuple(map(_norm, v.values))) for v in b.options
    ):
        changed.append("option values")
    return changed


def _conditions(policy: Policy) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(_norm(c.field), _norm(c.operator), tuple(map(_norm, c.values))) for c in policy.conditions]


def _norm(value: object) -> str:
    return str(value).strip().lower()


def _mac(value: str) -> str:
    return value.strip().upper().replace(":", "-")


def _count(value: object) -> int | None:
    return None if isinstance(value, SectionError) else len(value)  # type: ignore[arg-type]


def _with_commands(finding: Finding, *commands: PlannedCommand) -> Finding:
    return dataclasses.replace(finding, commands=tuple(commands)) if commands else finding


__all__ = ["ServerParity"]
