"""Start a real Kea HA pair on loopback addresses (for the tests and `fovalidate demo`).

Nothing here emulates Kea: it writes two `kea-dhcp4` configurations (and, in
the Control Agent variant, two `kea-ctrl-agent` ones), starts the Debian
binaries in the foreground and stops them by PID. The configurations follow
the working lab pair of kea-ha.md section 3; `faults` plants the
misconfigurations measured there. No DHCP interface is opened
(`"interfaces": []`), so the servers only talk HA and the API.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

HOOKS_DIRS = (
    "/usr/lib/x86_64-linux-gnu/kea/hooks",
    "/usr/lib/aarch64-linux-gnu/kea/hooks",
    "/usr/lib/kea/hooks",
)
FAKETIME_LIBRARIES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
)

Transport = Literal["listener", "agent"]

#: The planted problems, by name (each reproduces a row of kea-ha.md section 3).
FAULTS = {
    "reversed-roles": "server2 calls itself primary and server1 standby (split brain)",
    "missing-subnet": "server2 lacks subnet id 1 (the primary's lease updates are refused)",
    "mode-mismatch": "server2 runs load-balancing, server1 hot-standby",
    "same-name": "server2's this-server-name is server1",
    "core-mt-off": "server2 has HA multi-threading but core multi-threading off (no listener)",
    "uneven-timers": "max-response-delay 2500 ms with a 1000 ms heartbeat on server2 only",
    "unknown-peer": "this-server-name names a peer that is not listed (kea-dhcp4 -t passes it)",
    "foreign-ca": "with tls: server2's certificate comes from another CA, which server2 alone trusts",
    "lb-pools-swapped": "load-balancing: server2 gives HA_server1 the pool server1 gives HA_server2",
    "lb-pools-overlap": "load-balancing: server2's HA_server1 and HA_server2 pools share addresses",
    "wait-backup-ack": "server2 sets wait-backup-ack outside passive-backup (Kea refuses to start)",
}

#: The role of server2 per mode (kea-ha.md section 1).
SECOND_ROLES = {"hot-standby": "standby", "load-balancing": "secondary", "passive-backup": "backup"}

#: Subnet 1's pool in load-balancing, split per server with the classes the HA hook
#: assigns (HA_<server name>), as in the Kea ARM's load-balancing example.
LB_POOLS = (("192.0.2.100 - 192.0.2.149", "HA_server1"), ("192.0.2.150 - 192.0.2.200", "HA_server2"))
LB_POOLS_2 = (
    ("198.51.100.10 - 198.51.100.49", "HA_server1"),
    ("198.51.100.50 - 198.51.100.90", "HA_server2"),
)


def kea_program(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


def hooks_dir() -> str | None:
    for candidate in HOOKS_DIRS:
        if Path(candidate, "libdhcp_ha.so").is_file():
            return candidate
    return None


def faketime_library() -> str | None:
    return next((c for c in FAKETIME_LIBRARIES if Path(c).is_file()), None)


def kea_available() -> str | None:
    """None when a pair can be started here, else why not (naming the Debian packages)."""
    if kea_program("kea-dhcp4") is None:
        return "kea-dhcp4 is not installed (Debian package kea-dhcp4-server)"
    if hooks_dir() is None:
        return "the Kea HA hook libdhcp_ha.so is not installed (Debian package kea-common)"
    return None


@dataclass
class PairSpec:
    addresses: tuple[str, str] = ("127.0.0.61", "127.0.0.62")
    transport: Transport = "listener"
    #: HA listener port (listener variant) or Control Agent port (agent variant)
    port: int = 8001
    mode: str = "hot-standby"
    heartbeat_ms: int = 1000
    max_response_ms: int = 5000
    faults: frozenset[str] = frozenset()
    #: seconds server2's clock runs ahead (libfaketime), 0 for none
    server2_clock_ahead: int = 0
    #: basic-auth credentials on the peer entries (Kea 2.2 sends them; config-get shows them in clear)
    peer_password: str | None = None
    #: passive-backup: the primary waits for the backup's acknowledgement of lease updates
    wait_backup_ack: bool = False
    #: https between the peers (and for fovalidate): a test CA made with openssl in the work
    #: folder, one certificate per server, client certificates required (see `make_tls`)
    tls: bool = False


@dataclass(frozen=True)
class TlsFiles:
    """The test PKI of a TLS pair (PEM files in the work folder)."""

    ca: Path
    #: per server: (certificate, key), signed by `ca` (by `other_ca` for server2 with foreign-ca)
    servers: tuple[tuple[Path, Path], tuple[Path, Path]]
    #: fovalidate's client certificate and key, signed by `ca`
    client: tuple[Path, Path]
    other_ca: Path
    #: a client certificate signed by `other_ca` (what server2 accepts with foreign-ca)
    other_client: tuple[Path, Path]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _sign(folder: Path, name: str, ca: tuple[Path, Path], san: str | None) -> tuple[Path, Path]:
    key, request, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem"
    _openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(request),
        "-subj",
        f"/CN={name}",
    )
    extensions = folder / f"{name}.ext"
    lines = ["basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth,clientAuth"]
    if san:
        lines.append(f"subjectAltName={san}")
    extensions.write_text("\n".join(lines) + "\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        str(request),
        "-CA",
        str(ca[0]),
        "-CAkey",
        str(ca[1]),
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        str(cert),
        "-extfile",
        str(extensions),
    )
    return cert, key


def _authority(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
    )
    return cert, key


def make_tls(spec: PairSpec, workdir: Path) -> TlsFiles:
    """A test CA (and a second one for the foreign-ca fault), a certificate per server with
    its address as IP SAN, and a client certificate for fovalidate; all with openssl."""
    folder = workdir / "pki"
    folder.mkdir(parents=True, exist_ok=True)
    ca = _authority(folder, "fovalidate-test-ca")
    other = _authority(folder, "another-test-ca")
    second_signer = other if "foreign-ca" in spec.faults else ca
    servers = (
        _sign(folder, "server1", ca, f"IP:{spec.addresses[0]}"),
        _sign(folder, "server2", second_signer, f"IP:{spec.addresses[1]}"),
    )
    client = _sign(folder, "fovalidate-client", ca, None)
    other_client = _sign(folder, "fovalidate-client-other", other, None)
    return TlsFiles(ca[0], servers, client, other[0], other_client)


def _peer_url(address: str, port: int, tls: bool = False) -> str:
    return f"{'https' if tls else 'http'}://{address}:{port}/"


def _trust(spec: PairSpec, index: int, workdir: Path) -> dict[str, Any]:
    """The TLS parameters of server `index` (the HA block's and the Control Agent's share the files)."""
    pki = workdir / "pki"
    foreign = index == 1 and "foreign-ca" in spec.faults
    return {
        "trust-anchor": str(pki / ("another-test-ca.pem" if foreign else "fovalidate-test-ca.pem")),
        "cert-file": str(pki / f"server{index + 1}.pem"),
        "key-file": str(pki / f"server{index + 1}.key"),
    }


def dhcp4_config(spec: PairSpec, index: int, workdir: Path) -> dict[str, Any]:
    """The `kea-dhcp4` configuration of server `index` (0 or 1) of the pair."""
    hooks = hooks_dir() or HOOKS_DIRS[0]
    names = ("server1", "server2")
    second_role = SECOND_ROLES[spec.mode]
    own = names[index]
    peers = [
        {"name": "server1", "url": _peer_url(spec.addresses[0], spec.port, spec.tls), "role": "primary"},
        {"name": "server2", "url": _peer_url(spec.addresses[1], spec.port, spec.tls), "role": second_role},
    ]
    if spec.peer_password:
        for peer in peers:
            peer.update({"basic-auth-user": "kea-ha", "basic-auth-password": spec.peer_password})
    ha: dict[str, Any] = {
        "this-server-name": own,
        "mode": spec.mode,
        "heartbeat-delay": spec.heartbeat_ms,
        "max-response-delay": spec.max_response_ms,
        "max-ack-delay": 5000,
        "max-unacked-clients": 0,
        "peers": peers,
    }
    if spec.wait_backup_ack:
        ha["wait-backup-ack"] = True
    if spec.tls:
        # Kea 2.2 ARM, HA "TLS/HTTPS Configuration": all three files or none; the client
        # side of the HA connection and (with HA+MT) the dedicated listener use them.
        ha.update(_trust(spec, index, workdir), **{"require-client-certs": True})
    core: dict[str, Any] = {
        "interfaces-config": {"interfaces": []},
        "control-socket": {"socket-type": "unix", "socket-name": str(workdir / f"s{index + 1}.sock")},
        "lease-database": {
            "type": "memfile",
            "persist": True,
            "name": str(workdir / f"s{index + 1}-leases4.csv"),
            "lfc-interval": 0,
        },
        "hooks-libraries": [
            {"library": f"{hooks}/libdhcp_lease_cmds.so"},
            {"library": f"{hooks}/libdhcp_ha.so", "parameters": {"high-availability": [ha]}},
        ],
        "subnet4": [
            {
                "id": 1,
                "subnet": "192.0.2.0/24",
                "pools": [{"pool": "192.0.2.100 - 192.0.2.200"}],
                "relay": {"ip-addresses": ["127.0.0.3"]},
            },
            {"id": 2, "subnet": "198.51.100.0/24", "pools": [{"pool": "198.51.100.10 - 198.51.100.90"}]},
        ],
        "loggers": [
            {
                "name": "kea-dhcp4",
                "output_options": [{"output": str(workdir / f"s{index + 1}.log")}],
                "severity": "INFO",
            }
        ],
    }
    if spec.mode == "load-balancing":
        pools = [{"pool": pool, "client-class": klass} for pool, klass in LB_POOLS]
        if index == 1 and "lb-pools-swapped" in spec.faults:
            pools = [
                {"pool": pool, "client-class": klass}
                for (pool, _), (_, klass) in zip(LB_POOLS, LB_POOLS[::-1], strict=True)
            ]
        if index == 1 and "lb-pools-overlap" in spec.faults:
            pools[1]["pool"] = "192.0.2.140 - 192.0.2.200"
        core["subnet4"][0]["pools"] = pools
        core["subnet4"][-1]["pools"] = [{"pool": pool, "client-class": klass} for pool, klass in LB_POOLS_2]
    if spec.transport == "listener":
        core["multi-threading"] = {
            "enable-multi-threading": True,
            "thread-pool-size": 2,
            "packet-queue-size": 16,
        }
        ha["multi-threading"] = {
            "enable-multi-threading": True,
            "http-dedicated-listener": True,
            "http-listener-threads": 2,
            "http-client-threads": 2,
        }
    if index == 1:
        faults = spec.faults
        if "reversed-roles" in faults:
            peers[0]["role"], peers[1]["role"] = second_role, "primary"
        if "missing-subnet" in faults:
            core["subnet4"] = [s for s in core["subnet4"] if s["id"] != 1]
        if "mode-mismatch" in faults:
            ha["mode"] = "load-balancing" if spec.mode == "hot-standby" else "hot-standby"
            peers[1]["role"] = "secondary" if ha["mode"] == "load-balancing" else "standby"
        if "same-name" in faults:
            ha["this-server-name"] = "server1"
        if "core-mt-off" in faults:
            core["multi-threading"] = {"enable-multi-threading": False}
        if "uneven-timers" in faults:
            ha["max-response-delay"] = 2500
        if "unknown-peer" in faults:
            ha["this-server-name"] = "server3"
        if "wait-backup-ack" in faults:
            ha["wait-backup-ack"] = True
    return {"Dhcp4": core}


def agent_config(spec: PairSpec, index: int, workdir: Path) -> dict[str, Any]:
    # Kea 2.2 ARM, Control Agent "TLS/HTTPS Configuration": cert-required asks clients for a certificate.
    tls = {**_trust(spec, index, workdir), "cert-required": True} if spec.tls else {}
    return {
        "Control-agent": {
            **tls,
            "http-host": spec.addresses[index],
            "http-port": spec.port,
            "control-sockets": {
                "dhcp4": {"socket-type": "unix", "socket-name": str(workdir / f"s{index + 1}.sock")}
            },
            "loggers": [
                {
                    "name": "kea-ctrl-agent",
                    "output_options": [{"output": str(workdir / f"ca{index + 1}.log")}],
                    "severity": "INFO",
                }
            ],
        }
    }


@dataclass
class KeaPair:
    """A running pair: its work folder, config paths, URLs and processes."""

    spec: PairSpec
    workdir: Path
    config_paths: tuple[Path, Path]
    urls: tuple[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    owns_workdir: bool = True
    tls: TlsFiles | None = None

    def client_context(self, index: int = 0) -> ssl.SSLContext | None:
        """How this module's own helpers talk to server `index` of a TLS pair: the CA that
        signed its certificate, and fovalidate's client certificate."""
        if self.tls is None:
            return None
        foreign = index == 1 and "foreign-ca" in self.spec.faults
        context = ssl.create_default_context(cafile=str(self.tls.other_ca if foreign else self.tls.ca))
        cert, key = self.tls.other_client if foreign else self.tls.client
        context.load_cert_chain(str(cert), str(key))
        return context

    def log(self, index: int) -> str:
        with contextlib.suppress(OSError):
            return (self.workdir / f"s{index + 1}.log").read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=5)
        self.processes.clear()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KeaPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def heartbeat_states(self) -> tuple[str | None, str | None]:
        return _state(self.urls[0], self.client_context(0)), _state(self.urls[1], self.client_context(1))

    def wait_for_states(self, wanted: Iterable[str], timeout: float = 20.0) -> tuple[str | None, str | None]:
        """Wait until both servers report a state in `wanted` (or the timeout); return the last states."""
        allowed = set(wanted)
        deadline = time.monotonic() + timeout
        states: tuple[str | None, str | None] = (None, None)
        while time.monotonic() < deadline:
            states = self.heartbeat_states()
            if states[0] in allowed and states[1] in allowed:
                return states
            if any(p.poll() is not None for p in self.processes):
                return states
            time.sleep(0.25)
        return states


def _state(url: str, context: ssl.SSLContext | None = None) -> str | None:
    """The HA state from `ha-heartbeat` (a read-only command), None when there is no answer."""
    body = json.dumps({"command": "ha-heartbeat", "service": ["dhcp4"]}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError):
        return None
    if isinstance(answer, list):
        answer = answer[0] if answer else {}
    arguments = answer.get("arguments") if isinstance(answer, Mapping) else None
    state = arguments.get("state") if isinstance(arguments, Mapping) else None
    return str(state) if state is not None else None


def write_configs(spec: PairSpec, workdir: Path) -> tuple[Path, Path]:
    paths = []
    for index in (0, 1):
        path = workdir / f"kea-dhcp4-s{index + 1}.conf"
        path.write_text(json.dumps(dhcp4_config(spec, index, workdir), indent=2))
        paths.append(path)
        if spec.transport == "agent":
            (workdir / f"kea-ctrl-agent-s{index + 1}.conf").write_text(
                json.dumps(agent_config(spec, index, workdir), indent=2)
            )
    return paths[0], paths[1]


def start_pair(spec: PairSpec, workdir: Path | None = None, *, wait: float = 10.0) -> KeaPair:
    """Start both servers (and agents); return once both APIs answer (or raise RuntimeError with the logs)."""
    problem = kea_available()
    if problem:
        raise RuntimeError(problem)
    if spec.transport == "agent" and kea_program("kea-ctrl-agent") is None:
        raise RuntimeError("kea-ctrl-agent is not installed (Debian package kea-ctrl-agent)")
    owns = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="fovalidate-kea-")) if workdir is None else workdir
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "run").mkdir(exist_ok=True)
    tls = make_tls(spec, workdir) if spec.tls else None
    paths = write_configs(spec, workdir)
    urls = (
        _peer_url(spec.addresses[0], spec.port, spec.tls),
        _peer_url(spec.addresses[1], spec.port, spec.tls),
    )
    pair = KeaPair(spec, workdir, paths, urls, owns_workdir=owns, tls=tls)
    environment = dict(os.environ)
    environment.update(KEA_PIDFILE_DIR=str(workdir / "run"), KEA_LOCKFILE_DIR=str(workdir / "run"))
    try:
        for index in (0, 1):
            env = dict(environment)
            if index == 1 and spec.server2_clock_ahead:
                library = faketime_library()
                if library is None:
                    raise RuntimeError("libfaketimeMT.so.1 is not installed (Debian package libfaketime)")
                env.update(
                    LD_PRELOAD=library,
                    FAKETIME=f"+{spec.server2_clock_ahead}s",
                    FAKETIME_DONT_FAKE_MONOTONIC="1",
                    FAKETIME_NO_CACHE="1",
                )
            # Each server gets its own pid/lock folder: two kea-dhcp4 processes share one by default.
            run = workdir / f"run{index + 1}"
            run.mkdir(exist_ok=True)
            env.update(KEA_PIDFILE_DIR=str(run), KEA_LOCKFILE_DIR=str(run))
            log = (workdir / f"s{index + 1}.stdout").open("wb")
            pair.processes.append(
                subprocess.Popen(
                    [kea_program("kea-dhcp4") or "kea-dhcp4", "-c", str(paths[index])],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )
            if spec.transport == "agent":
                agent_log = (workdir / f"ca{index + 1}.stdout").open("wb")
                pair.processes.append(
                    subprocess.Popen(
                        [
                            kea_program("kea-ctrl-agent") or "kea-ctrl-agent",
                            "-c",
                            str(workdir / f"kea-ctrl-agent-s{index + 1}.conf"),
                        ],
                        stdout=agent_log,
                        stderr=subprocess.STDOUT,
                        env=dict(environment, KEA_PIDFILE_DIR=str(run), KEA_LOCKFILE_DIR=str(run)),
                        start_new_session=True,
                    )
                )
        # These faults keep server2's API from existing (measured): then only server1 must answer.
        expects_silence = bool(spec.faults & {"core-mt-off", "same-name", "unknown-peer", "wait-backup-ack"})
        needed = urls[:1] if expects_silence else urls
        first_processes = pair.processes[:1] if expects_silence else pair.processes
        contexts = [pair.client_context(0), pair.client_context(1)]
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if all(_answers(url, context) for url, context in zip(needed, contexts, strict=False)):
                return pair
            if any(p.poll() is not None for p in first_processes):
                break
            time.sleep(0.1)
        logs = "\n".join(pair.log(i) for i in (0, 1))
        raise RuntimeError(f"the Kea pair did not answer within {wait:g}s:\n{logs}")
    except BaseException:
        pair.stop()
        raise


def _answers(url: str, context: ssl.SSLContext | None = None) -> bool:
    body = json.dumps({"command": "version-get", "service": ["dhcp4"]}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=1, context=context) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError):
        return False
    if isinstance(answer, list):
        answer = answer[0] if answer else {}
    return isinstance(answer, Mapping) and answer.get("result") == 0
