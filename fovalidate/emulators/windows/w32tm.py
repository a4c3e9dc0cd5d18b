"""What `w32tm /query /source` and `w32tm /query /status` print, per language.

The line layouts, labels, value shapes and quirks are those of the real
outputs collected in windows-output-samples.md section 6: English (6.1),
German (6.2: labels, the trailing space after the `Quelle:` value), French
(6.3: a space before each colon) and Japanese (6.5: "0 (...)" with a space).
The non-verbose `/status` prints the first nine lines. Provider names such
as "Local CMOS Clock" are never translated. No real capture of
"Free-running System Clock" exists (6.7); it is printed in the unsynchronised
layout. Not captured either, and therefore our own wording: the French and
Japanese texts in parentheses for the unsynchronised state ("non
synchronisé", "同期されていません"; the Japanese "未指定" comes from a design
note, not a capture) and the French and Japanese "service not started"
messages, for which the English text is printed. fovalidate reads only the
numbers, hex values and the source from these lines.
"""

from __future__ import annotations

from dataclasses import dataclass

UNSYNCED = ("Local CMOS Clock", "Free-running System Clock")


@dataclass(frozen=True)
class Labels:
    leap: str
    stratum: str
    precision: str
    root_delay: str
    root_dispersion: str
    reference: str
    last_sync: str
    source: str
    poll: str
    colon: str
    no_warning: str
    not_synced: str
    secondary: str
    unspecified: str
    per_tick: str
    source_ip: str
    sync_time: str
    leap_space: str
    service_error: str


_ENGLISH_SERVICE_ERROR = "The following error occurred: The service has not been started. (0x80070426)"

LANGUAGES = {
    "en": Labels(
        "Leap Indicator",
        "Stratum",
        "Precision",
        "Root Delay",
        "Root Dispersion",
        "ReferenceId",
        "Last Successful Sync Time",
        "Source",
        "Poll Interval",
        ": ",
        "no warning",
        "not synchronized",
        "secondary reference - syncd by (S)NTP",
        "unspecified",
        "119.209ns per tick",
        "source IP",
        "9/15/2025 12:01:31 AM",
        "",
        _ENGLISH_SERVICE_ERROR,
    ),
    "de": Labels(
        "Sprungindikator",
        "Stratum",
        "Präzision",
        "Stammverzögerung",
        "Stammabweichung",
        "Referenz-ID",
        "Letzte erfolgr. Synchronisierungszeit",
        "Quelle",
        "Abrufintervall",
        ": ",
        "keine Warnung",
        "nicht synchronisiert",
        "Sekundärreferenz - synchr. über (S)NTP",
        "nicht angegeben",
        "119.209ns pro Tick",
        "Quell-IP",
        "25.09.2026 06:35:07",
        "",
        "Folgender Fehler ist aufgetreten: Der Dienst wurde nicht gestartet. (0x80070426)",
    ),
    "fr": Labels(
        "Indicateur de dérive",
        "Couche",
        "Précision",
        "Délai de racine",
        "Dispersion de racine",
        "ID de référence",
        "Heure de la dernière synchronisation réussie",
        "Source",
        "Intervalle d\u2019interrogation",  # the typographic apostrophe of the real output (6.3)
        " : ",
        "Aucun avertissement",
        "non synchronisé",
        "Référence secondaire, synchronisée par (S)NTP",
        "non spécifié",
        "119.209ns par battement",
        "IP de la source",
        "15/09/2025 01:11:10",
        "",
        _ENGLISH_SERVICE_ERROR,
    ),
    "ja": Labels(
        "閏インジケーター",
        "階層",
        "精度",
        "ルート遅延",
        "ルート分散",
        "参照 ID",
        "最終正常同期時刻",
        "ソース",
        "ポーリング間隔",
        ": ",
        "警告なし",
        "同期されていません",
        "二次参照 - (S)NTP で同期",
        "未指定",
        "ティックごとに 119.209ns",
        "ソース IP",
        "2022/01/10 1:45:54",
        " ",
        _ENGLISH_SERVICE_ERROR,
    ),
}

#: w32tm's exit code with the service stopped: HRESULT 0x80070426 as a signed int.
SERVICE_NOT_STARTED_EXIT = -2147023834
ACCESS_DENIED_EXIT = -2147024891
#: "Access is denied" (0x80070005): German captured (6.10); the English wording is ours.
ACCESS_DENIED = {
    "de": "Folgender Fehler ist aufgetreten: Zugriff verweigert (0x80070005)",
    "en": "The following error occurred: Access is denied. (0x80070005)",
}


def access_denied(language: str) -> tuple[list[str], int]:
    """(lines, exit code) when the account may not run w32tm (it needs local Administrators)."""
    return [ACCESS_DENIED.get(language, ACCESS_DENIED["en"])], ACCESS_DENIED_EXIT


def query_source(source: str, *, language: str = "en", running: bool = True) -> tuple[list[str], int]:
    """(lines, exit code) of `w32tm /query /source`."""
    if not running:
        return [LANGUAGES[language].service_error], SERVICE_NOT_STARTED_EXIT
    return [source], 0


def query_status(
    source: str,
    *,
    language: str = "en",
    running: bool = True,
    reference_ip: str = "10.0.0.10",
    stratum: int = 3,
) -> tuple[list[str], int]:
    """(lines, exit code) of `w32tm /query /status` (non-verbose: nine lines)."""
    labels = LANGUAGES[language]
    if not running:
        return [labels.service_error], SERVICE_NOT_STARTED_EXIT
    c = labels.colon
    unsynced = source in UNSYNCED
    if unsynced:
        leap = f"3{labels.leap_space}({labels.not_synced})"
        stratum_text = f"0 ({labels.unspecified})"
        delay = dispersion = "0.0000000s"
        reference = f"0x00000000 ({labels.unspecified})"
        last = labels.unspecified
    else:
        leap = f"0{labels.leap_space}({labels.no_warning})"
        stratum_text = f"{stratum} ({labels.secondary})"
        delay, dispersion = "0.0312500s", "0.1054265s"
        octets = [int(part) for part in reference_ip.split(".")]
        reference = f"0x{''.join(f'{o:02X}' for o in octets)} ({labels.source_ip}:  {reference_ip})"
        last = labels.sync_time
    trailing = " " if language == "de" and not unsynced else ""
    lines = [
        f"{labels.leap}{c}{leap}",
        f"{labels.stratum}{c}{stratum_text}",
        f"{labels.precision}{c}-23 ({labels.per_tick})",
        f"{labels.root_delay}{c}{delay}",
        f"{labels.root_dispersion}{c}{dispersion}",
        f"{labels.reference}{c}{reference}",
        f"{labels.last_sync}{c}{last}",
        f"{labels.source}{c}{source}{trailing}",
        f"{labels.poll}{c}10 (1024s)",
    ]
    return lines, 0
