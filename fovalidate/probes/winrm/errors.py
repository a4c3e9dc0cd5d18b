"""Why a PowerShell command failed on a server, whatever language it speaks.

Windows translates error messages ("Access is denied." is "Zugriff
verweigert" on a German server, windows-output-samples.md 6.10), so the
cause is never read from the message. It is decided from the parts of an
error record that are not translated (windows-dhcp-failover.md §10):

- the FullyQualifiedErrorId ("CommandNotFoundException",
  "WIN32 5,Get-DhcpServerv4Scope", "MethodInvocationNotSupportedInConstrainedLanguage");
- the exception's type name (CategoryInfo.Reason: "UnauthorizedAccessException");
- the HRESULT (0x80070005), also where it is printed inside a message;
- the category (CategoryInfo.Category: "PermissionDenied").

The fact scripts send these fields with every failed section
(`SectionError` in the scripts); for a script that failed as a whole they
are read from the formatted error record on stderr, whose labels
("CategoryInfo", "FullyQualifiedErrorId") stay English on every locale
(windows-output-samples.md, sample 24, and the zh-CN sample 14, which also
shows a full-width comma before the exception type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fovalidate.probes.interface import Cause
from fovalidate.probes.winrm import shapes
from fovalidate.secrets import clip

#: HRESULT of E_ACCESSDENIED (0x80070005) as the signed 32-bit integer PowerShell prints.
ACCESS_DENIED_HRESULT = 0x80070005 - 2**32
#: The FullyQualifiedErrorId the dhcp script writes itself when PowerShell runs
#: in ConstrainedLanguage mode and the server has no Test-NetConnection (2012).
NO_CONNECT_TEST_ID = "ConstrainedLanguageNoConnectTest"

#: FullyQualifiedErrorIds of Constrained Language Mode refusals (windows-output-samples.md
#: 12, 13, 14, 25; ConversionSupportedOnlyToCoreTypes for `[pscustomobject]@{}`,
#: PowerShell/PowerShell#20719 and #20767; the property-setter id from a German capture).
CONSTRAINED_LANGUAGE_IDS = (
    "MethodInvocationNotSupportedInConstrainedLanguage",
    "CannotCreateTypeConstrainedLanguage",
    "CannotCreateComTypeConstrainedLanguage",
    "ConversionSupportedOnlyToCoreTypes",
    "PropertySetterNotSupportedInConstrainedLanguage",
    NO_CONNECT_TEST_ID,
)

_WIN32 = re.compile(r"^WIN32 (\d+)\s*,")
_HRESULT_TEXT = re.compile(r"\b0x([0-9A-Fa-f]{8})\b")
_ERROR_ID_LINE = re.compile(r"FullyQualifiedErrorId\s*:\s*(\S+(?: \d+,\S+)?)")
#: "CategoryInfo : ObjectNotFound: (Get-Thing:String) [], CommandNotFoundException": the
#: category, the target, the activity in brackets, then the exception type after a comma
#: (a full-width one on zh-CN, windows-output-samples.md 14).
_CATEGORY_LINE = re.compile(r"CategoryInfo\s*:\s*(\w+)\s*:\s*\(([^)]*)\)\s*\[[^\]]*\]\s*[,\uff0c]\s*(\w+)")

#: Win32 error codes seen in DHCP cmdlet errors, in words (MS-ERREF; windows-output-samples.md 10, 11).
WIN32_ERRORS = {
    5: "access denied",
    1722: "the RPC server is unavailable",
    1753: "no RPC endpoint is available",
}


@dataclass(frozen=True)
class ErrorRecord:
    """The parts of a PowerShell error record that fovalidate reads."""

    #: The message, in the server's language: shown to the user, never interpreted.
    message: str = ""
    #: FullyQualifiedErrorId: "CommandNotFoundException", "WIN32 5,Get-DhcpServerv4Scope"
    error_id: str = ""
    #: The exception's type name (CategoryInfo.Reason): "CimException"
    exception_type: str = ""
    hresult: int | None = None
    #: The target object: for CommandNotFoundException the name of the missing command.
    target: str = ""
    #: CategoryInfo.Category: "PermissionDenied", "ObjectNotFound"
    category: str = ""

    @classmethod
    def from_section(cls, raw: Any) -> ErrorRecord:
        """The error record a script wrote for a failed section ({"Error": ..., "Id": ...})."""
        message = shapes.as_text(shapes.field(raw, "Error")).strip()
        hresult = shapes.as_int(shapes.field(raw, "HResult"))
        return cls(
            message=message,
            error_id=shapes.as_text(shapes.field(raw, "Id")).strip(),
            exception_type=shapes.as_text(shapes.field(raw, "Type")).strip(),
            hresult=hresult if hresult else _hresult_in(message),
            target=shapes.as_text(shapes.field(raw, "Target")).strip(),
            category=shapes.as_text(shapes.field(raw, "Category")).strip(),
        )

    @classmethod
    def from_text(cls, text: str) -> ErrorRecord:
        """An error record as PowerShell formats it on stderr (one CLIXML error, lines joined)."""
        error_id = match.group(1).rstrip(",") if (match := _ERROR_ID_LINE.search(text)) else ""
        category = exception_type = target = ""
        if match := _CATEGORY_LINE.search(text):
            category, exception_type = match.group(1), match.group(3)
            target = match.group(2).split(":")[0].strip()
        message = text.split("+ CategoryInfo")[0].split("CategoryInfo")[0].strip()
        return cls(
            message=message,
            error_id=error_id,
            exception_type=exception_type,
            hresult=_hresult_in(text),
            target=target,
            category=category,
        )

    @property
    def win32_code(self) -> int | None:
        match = _WIN32.match(self.error_id)
        return int(match.group(1)) if match else None

    @property
    def head_id(self) -> str:
        """The FullyQualifiedErrorId without the command it names ("CommandNotFoundException")."""
        return self.error_id.split(",")[0].strip()

    @property
    def constrained_language(self) -> bool:
        return any(known in self.error_id for known in CONSTRAINED_LANGUAGE_IDS)

    @property
    def command_not_found(self) -> bool:
        return "CommandNotFoundException" in (self.head_id, self.exception_type)

    @property
    def access_denied(self) -> bool:
        return (
            self.win32_code == 5
            or self.hresult == ACCESS_DENIED_HRESULT
            or self.exception_type == "UnauthorizedAccessException"
            or self.category == "PermissionDenied"
        )

    def describe(self) -> str:
        """What failed, for a message: the untranslated id first, then the server's own words."""
        parts = [part for part in (self.error_id or self.exception_type,) if part]
        if self.hresult is not None and self.hresult != 0:
            parts.append(f"0x{self.hresult & 0xFFFFFFFF:08X}")
        words = clip(" ".join(self.message.split()), 240, more="")
        head = ", ".join(parts)
        if head and words:
            return f"{head}: {words}"
        return head or words or "no details"


def _hresult_in(text: str) -> int | None:
    """An HRESULT printed in a message ("... (0x80070005)"), as a signed 32-bit integer."""
    for match in _HRESULT_TEXT.finditer(text):
        value = int(match.group(1), 16)
        if value & 0x80000000:
            return value - 2**32
    return None


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    detail: str
    fix: str


ACCESS_FIX = (
    "add the fovalidate account to the server's DHCP Administrators or Administrators group "
    "(whether DHCP Users is enough is unconfirmed)"
)


def constrained_language_fix(host: str, what: str) -> str:
    return (
        f"{host} enforces an AppLocker or WDAC policy, so PowerShell runs in ConstrainedLanguage mode for "
        "the fovalidate account there, and fovalidate's scripts arrive as -EncodedCommand, which a policy "
        f"cannot trust by signature. Allow that account FullLanguage on {host}, or check {what} by hand in "
        "a FullLanguage session there"
    )


def command_fix(command: str, host: str) -> str:
    lowered = command.lower()
    if lowered.startswith("get-dhcp"):
        return (
            f"{command} is missing on {host}: install the DHCP Server role's PowerShell module "
            "(Install-WindowsFeature RSAT-DHCP), or, on a restricted (JEA) endpoint, make the DhcpServer "
            "module's Get- cmdlets visible to the account"
        )
    if lowered in ("test-netconnection", "get-netconnectionprofile", "get-nettcpconnection") or (
        lowered.startswith("get-netfirewall")
    ):
        return (
            f"{command} is part of Windows Server 2012 and later (NetTCPIP/NetSecurity; Test-NetConnection "
            f"from 2012 R2); on a restricted (JEA) endpoint make it visible to the account on {host}"
        )
    name = command or "the command"
    return f"make {name} available to the fovalidate account on {host} (a restricted endpoint hides it)"


def diagnose(record: ErrorRecord, *, host: str, what: str) -> Diagnosis:
    """The cause, a description and the fix for `record` (the failure to read `what` on `host`)."""
    if record.constrained_language:
        if record.error_id == NO_CONNECT_TEST_ID:
            detail = (
                f"PowerShell runs in ConstrainedLanguage mode on {host}: the connection test needs .NET "
                "TcpClient, which that mode refuses, and this Windows has no Test-NetConnection "
                "(Server 2012)"
            )
        else:
            detail = (
                f"PowerShell runs in ConstrainedLanguage mode on {host} and refused what the script "
                f"needs ({record.describe()})"
            )
        return Diagnosis(Cause.CONSTRAINED_LANGUAGE, detail, constrained_language_fix(host, what))
    if record.command_not_found:
        command = record.target
        return Diagnosis(
            Cause.COMMAND_MISSING,
            f"the command {command or '(unnamed)'} is not available on {host} ({record.describe()})",
            command_fix(command, host),
        )
    if record.access_denied:
        return Diagnosis(Cause.ACCESS_DENIED, f"access denied on {host} ({record.describe()})", ACCESS_FIX)
    code = record.win32_code
    if code is not None:
        words = WIN32_ERRORS.get(code, f"Windows error {code}")
        return Diagnosis(
            Cause.UNEXPECTED,
            f"{words} on {host} ({record.describe()})",
            "run the cmdlet named in the error by hand on the server to see why",
        )
    return Diagnosis(
        Cause.UNEXPECTED,
        f"PowerShell error on {host}: {record.describe()}",
        "run the script by hand on the server (see `fovalidate explain`)",
    )
