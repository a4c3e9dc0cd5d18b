"""NTP query (ntplib) to each server's time service.

Each server is asked `ntp.samples` times; the answer with the shortest round
trip is kept, because its offset has the smallest uncertainty (delay / 2).
Answers that say they are unsynchronised (stratum 0, or leap indicator 3) are
not trusted: such a server's clock is free-running and its own time service
says so.
"""

from __future__ import annotations

import time

import ntplib

from fovalidate.facts import NTP
from fovalidate.facts.network import NtpMeasurement
from fovalidate.findings import Status
from fovalidate.inventory.model import Server
from fovalidate.probes.interface import Cause, FactError, Probe, ProbeContext, ProbeFailed
from fovalidate.probes.oserrors import classify

W32TIME_HINT = (
    "W32Time's NTP server is off by default on member servers "
    "(HKLM\\SYSTEM\\CurrentControlSet\\Services\\W32Time\\TimeProviders\\NtpServer, Enabled=0), "
    "so a healthy server often does not answer NTP; the skew is then read over WinRM"
)


class NtpProbe(Probe[Server, NtpMeasurement]):
    produces = NTP
    description = "NTP query (ntplib) to each server"

    def deadline(self, subject: Server, context: ProbeContext) -> float:
        return context.timeout * (subject.ntp.samples + 1) + 5

    def round_trips(self, subject: Server, context: ProbeContext) -> int:
        return subject.ntp.samples if subject.ntp.enabled else 0

    def gather(self, subject: Server, context: ProbeContext) -> NtpMeasurement:
        settings = subject.ntp
        if not settings.enabled:
            raise ProbeFailed(
                FactError(
                    Cause.NOT_CONFIGURED,
                    "NTP queries are turned off for this server (ntp.enabled: false)",
                    status=Status.SKIP,
                )
            )
        client = ntplib.NTPClient()
        address = str(subject.address)
        good: list[tuple[ntplib.NTPStats, float]] = []
        untrusted: list[ntplib.NTPStats] = []
        sent = 0
        last_error: tuple[str, str] | None = None
        for sample in range(settings.samples):
            if context.cancelled.is_set():
                break
            context.progress(subject.name, f"NTP {sample + 1}/{settings.samples}")
            sent += 1
            before = time.time()
            try:
                stats = client.request(address, version=3, port=settings.port, timeout=context.timeout)
            except ntplib.NTPException:
                last_error = (
                    Cause.NO_ANSWER,
                    f"no NTP answer from {address}:{settings.port} within {context.timeout:g}s",
                )
                break  # a silent server would cost the full timeout again
            except OSError as exc:
                last_error = classify(exc)
                break
            if stats.stratum == 0 or stats.leap == 3 or stats.delay < 0:
                untrusted.append(stats)
                continue
            good.append((stats, (before + time.time()) / 2))

        if good:
            best, taken_at = min(good, key=lambda pair: pair[0].delay)
            return NtpMeasurement(
                offset=best.offset,
                delay=best.delay,
                stratum=best.stratum,
                leap=best.leap,
                reference=_reference(best),
                samples_sent=sent,
                samples_answered=len(good) + len(untrusted),
                measured_at=taken_at,
                precision=_precision(best),
            )
        if untrusted:
            worst = untrusted[0]
            raise ProbeFailed(
                FactError(
                    Cause.UNTRUSTED_ANSWER,
                    f"{address}:{settings.port} answers as unsynchronised "
                    f"(stratum {worst.stratum}, leap indicator {worst.leap}), so its time is not trusted",
                    "let the server synchronise (w32tm /resync); "
                    "on a domain member check `w32tm /query /source`",
                )
            )
        cause, detail = last_error or (Cause.INTERRUPTED, "the run was interrupted")
        raise ProbeFailed(
            FactError(
                cause,
                f"{detail}. {W32TIME_HINT}",
                "enable the NTP server provider on both partners or let fovalidate read the "
                "clocks over WinRM; check UDP 123 in the firewall",
            )
        )


def _precision(stats: ntplib.NTPStats) -> int | None:
    """The declared precision, when it is one a clock can have.

    The field is a signed byte of log2 seconds. 0 (a one-second tick) is what
    simple SNTP servers leave when they do not fill the field, and a value
    above 0 is not a clock's resolution but a broken answer; both are ignored
    rather than allowed to swamp the uncertainty.
    """
    value = getattr(stats, "precision", None)
    if isinstance(value, int) and -128 <= value < 0:
        return value
    return None


def _reference(stats: ntplib.NTPStats) -> str:
    try:
        return ntplib.ref_id_to_text(stats.ref_id, stats.stratum)
    except (ntplib.NTPException, ValueError, OSError):
        return ""
