"""Relay configurations fetched over SSH from a real OpenSSH server.

Each test starts its own `sshd` (Debian's openssh-server, never its service)
on a loopback address and a high port, with host keys made for the test and a
`ForceCommand` (ssh_device.py) that answers the platform's show command from a
stored configuration. fovalidate connects through scrapli and the system's
OpenSSH client, with host-key checking on.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.cli import clean_env, run_cli, start_foreground_job
from peers.require import require, require_root

CONFIGS = Path(__file__).parent / "configs"
DEVICE = Path(__file__).parent / "ssh_device.py"
ADDRESS = "127.46.12.80"
PASSWORD_ENV = "FOVALIDATE_TEST_SSH_PASSWORD"
WRONG_PASSWORD = "Wrong-Ssh-Pa55!"


def _free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


class SshServer:
    """One sshd in the foreground (-D), owned by the test: started and stopped by its pid."""

    def __init__(self, folder: Path, force_command: str, *, host_key: Path, client_pub: str):
        self.folder = folder
        self.port = _free_port(ADDRESS)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "authorized_keys").write_text(client_pub + "\n")
        self.config = folder / "sshd_config"
        self.config.write_text(
            f"ListenAddress {ADDRESS}\n"
            f"Port {self.port}\n"
            f"HostKey {host_key}\n"
            f"PidFile {folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
            "StrictModes no\n"
            "UsePAM no\n"
            # Password logins are tried (and fail: the test never knows a real password).
            "PermitRootLogin yes\n"
            "PasswordAuthentication yes\n"
            "KbdInteractiveAuthentication no\n"
            "PermitEmptyPasswords no\n"
            f"ForceCommand {force_command}\n"
        )
        self.log = folder / "sshd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SshServer:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        self.process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(self.config), "-E", str(self.log)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((ADDRESS, self.port), timeout=0.2):
                    return self
            except OSError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.05)
        raise AssertionError(f"sshd did not listen: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_root("an sshd on a loopback address")
    require(shutil.which("ssh") and Path("/usr/sbin/sshd").exists(), "openssh-server/-client are missing")
    folder = tmp_path_factory.mktemp("ssh-keys")
    return {
        "folder": folder,
        "host": _keygen(folder / "host_key"),
        "host_key": folder / "host_key",
        "other_host": _keygen(folder / "other_host_key"),
        "client": _keygen(folder / "client_key"),
        "client_key": folder / "client_key",
    }


@pytest.fixture
def servers(keys: dict[str, Any], tmp_path: Path) -> Iterator[list[SshServer]]:
    started: list[SshServer] = []
    yield started
    for server in started:
        server.stop()


def _device(keys: dict[str, Any], servers: list[SshServer], folder: Path, *device_args: str) -> SshServer:
    command = shlex.join([sys.executable, str(DEVICE), *device_args])
    server = SshServer(folder, command, host_key=keys["host_key"], client_pub=keys["client"]).start()
    servers.append(server)
    return server


def _known_hosts(path: Path, server: SshServer, key: str) -> Path:
    path.write_text(f"[{ADDRESS}]:{server.port} {key}\n")
    return path


def _inventory(folder: Path, relays: list[dict[str, Any]]) -> Path:
    document = {
        "version": 1,
        "defaults": {"winrm": {"enabled": False}},
        "servers": [
            {"name": "dhcp1", "address": "10.0.1.1"},
            {"name": "dhcp2", "address": "10.0.1.2"},
        ],
        "relationships": [{"name": "hq", "primary": "dhcp1", "partner": "dhcp2", "scopes": ["10.20.0.0/24"]}],
        "relays": relays,
    }
    path = folder / "inventory.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _pull(inventory: Path, out: Path, tmp: Path, *extra: str, env: dict[str, str] | None = None):
    return run_cli("relays", "pull", inventory, "--out", out, *extra, tmp=tmp, env=env)


def test_pull_and_check_over_ssh(keys: dict[str, Any], servers: list[SshServer], tmp_path: Path) -> None:
    cisco = _device(
        keys,
        servers,
        tmp_path / "cisco",
        "--prompt",
        "core-sw1#",
        "--config",
        str(CONFIGS / "cisco_ios-core.cfg"),
    )
    junos = _device(
        keys,
        servers,
        tmp_path / "junos",
        "--prompt",
        "netops@edge1>",
        "--command",
        "show configuration | display set",
        "--config",
        str(CONFIGS / "juniper_junos-set.conf"),
    )
    known = tmp_path / "known_hosts"
    known.write_text(
        f"[{ADDRESS}]:{cisco.port} {keys['host']}\n[{ADDRESS}]:{junos.port} {keys['host']}\n",
        encoding="utf-8",
    )
    common = {
        "host": ADDRESS,
        "username": "root",
        "key_file": str(keys["client_key"]),
        "known_hosts": "known_hosts",
    }
    inventory = _inventory(
        tmp_path,
        [
            {"name": "core-sw1", "platform": "cisco_ios", "ssh": {**common, "port": cisco.port}},
            {"name": "edge1", "platform": "juniper_junos", "ssh": {**common, "port": junos.port}},
        ],
    )
    out = tmp_path / "pulled"
    run = _pull(inventory, out, tmp_path)
    assert run.returncode == 0, run.stderr
    # What was fetched is the stored configuration (the pty's CRLF and the echo removed).
    for name, stored in (("core-sw1", "cisco_ios-core.cfg"), ("edge1", "juniper_junos-set.conf")):
        pulled = (out / f"{name}.cfg").read_text(encoding="utf-8")
        assert pulled.split() == (CONFIGS / stored).read_text(encoding="utf-8").split(), name
        assert f"{name}: saved" in run.stdout
    # The saved files read as the stored ones do.
    parsed = subprocess.run(
        [
            sys.executable,
            "-m",
            "fovalidate",
            "relays",
            "parse",
            "--format",
            "json",
            str(out / "core-sw1.cfg"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    direct = subprocess.run(
        [
            sys.executable,
            "-m",
            "fovalidate",
            "relays",
            "parse",
            "--format",
            "json",
            str(CONFIGS / "cisco_ios-core.cfg"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(parsed.stdout)[0]["interfaces"] == json.loads(direct.stdout)[0]["interfaces"]

    # `check` reads the relays over SSH as it reads files: the findings name the ssh:// source.
    check = run_cli("check", inventory, "--only", "relay.coverage", tmp=tmp_path)
    assert check.report is not None
    coverage = check.findings("relay.coverage")
    assert coverage and all(f["status"] != "error" for f in coverage), coverage
    files = {
        interface["file"]
        for f in coverage
        for interface in f["observed"].get("interfaces", [])
        if "file" in interface
    }
    assert any(str(file).startswith(f"ssh://root@{ADDRESS}:{cisco.port}") for file in files), files


def test_wrong_host_key_is_refused(keys: dict[str, Any], servers: list[SshServer], tmp_path: Path) -> None:
    server = _device(keys, servers, tmp_path / "dev", "--config", str(CONFIGS / "cisco_ios-core.cfg"))
    _known_hosts(tmp_path / "known_hosts", server, keys["other_host"])
    ssh = {"host": ADDRESS, "port": server.port, "username": "root", "key_file": str(keys["client_key"])}
    inventory = _inventory(
        tmp_path, [{"name": "sw", "platform": "cisco_ios", "ssh": {**ssh, "known_hosts": "known_hosts"}}]
    )
    run = _pull(inventory, tmp_path / "out", tmp_path)
    assert run.returncode == 3
    assert "host key is not the one in known_hosts" in run.stderr and "refused" in run.stderr
    assert not (tmp_path / "out" / "sw.cfg").exists()
    # An empty known_hosts (the device never seen) is refused the same way: no trust on first use.
    (tmp_path / "known_hosts").write_text("")
    assert "host key is not the one" in _pull(inventory, tmp_path / "out", tmp_path).stderr
    # In `check`, the relay's facts are an ERROR naming the cause, not a crash or a FAIL.
    check = run_cli("check", inventory, "--only", "relay.coverage", tmp=tmp_path)
    (finding,) = check.findings("relay.coverage")
    assert finding["status"] == "error" and "host key" in finding["message"], finding
    # Only with host_key_checking: false (a lab) is the unknown key accepted.
    lab = _inventory(
        tmp_path,
        [
            {
                "name": "sw",
                "platform": "cisco_ios",
                "ssh": {**ssh, "known_hosts": "known_hosts", "host_key_checking": False},
            }
        ],
    )
    assert _pull(lab, tmp_path / "out", tmp_path).returncode == 0


def test_bad_password_is_a_clear_error(
    keys: dict[str, Any], servers: list[SshServer], tmp_path: Path
) -> None:
    server = _device(keys, servers, tmp_path / "dev", "--config", str(CONFIGS / "cisco_ios-core.cfg"))
    _known_hosts(tmp_path / "known_hosts", server, keys["host"])
    ssh = {
        "host": ADDRESS,
        "port": server.port,
        "username": "root",
        "password_env": PASSWORD_ENV,
        "known_hosts": "known_hosts",
    }
    inventory = _inventory(tmp_path, [{"name": "sw", "platform": "cisco_ios", "ssh": ssh}])
    run = _pull(inventory, tmp_path / "out", tmp_path, env={PASSWORD_ENV: WRONG_PASSWORD})
    assert run.returncode == 3
    assert f"rejected the login of root with the password in {PASSWORD_ENV}" in run.stderr
    assert WRONG_PASSWORD not in run.stdout + run.stderr
    assert "session.Session" not in run.stderr  # scrapli's own log lines stay out of the output
    # No password at all: says which variable to set, and nothing is sent.
    missing = _pull(inventory, tmp_path / "out", tmp_path, env={PASSWORD_ENV: None})
    assert missing.returncode == 3 and f"set the environment variable {PASSWORD_ENV}" in missing.stderr


def _hung_device(
    keys: dict[str, Any], servers: list[SshServer], folder: Path, *, timeout: str
) -> dict[str, Any]:
    """The ssh: settings of a device that logs in and then never answers (known host, key login)."""
    server = _device(keys, servers, folder / "dev", "--hang")
    _known_hosts(folder / "known_hosts", server, keys["host"])
    return {
        "host": ADDRESS,
        "port": server.port,
        "username": "root",
        "key_file": str(keys["client_key"]),
        "known_hosts": "known_hosts",
        "timeout": timeout,
    }


def test_hung_session_times_out(keys: dict[str, Any], servers: list[SshServer], tmp_path: Path) -> None:
    ssh = _hung_device(keys, servers, tmp_path, timeout="2s")
    inventory = _inventory(tmp_path, [{"name": "sw", "platform": "cisco_ios", "ssh": ssh}])
    started = time.monotonic()
    run = _pull(inventory, tmp_path / "out", tmp_path)
    elapsed = time.monotonic() - started
    assert run.returncode == 3 and "no prompt or no complete answer within the timeout" in run.stderr, (
        run.stderr
    )
    assert elapsed < 20, elapsed
    # The OpenSSH client fovalidate started for the session is gone with it.
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    clients = [
        line
        for line in processes.splitlines()
        if line.split(" ")[0].endswith("ssh") and str(ssh["port"]) in line
    ]
    assert not clients, clients


def test_inventory_rules_for_ssh(tmp_path: Path) -> None:
    """Offline: ssh needs a platform (for the command) and a key or a password variable."""
    bad = _inventory(
        tmp_path,
        [
            {"name": "a", "ssh": {"host": ADDRESS, "username": "u", "key_file": "k"}},
            {"name": "b", "platform": "cisco_ios", "ssh": {"host": ADDRESS, "username": "u"}},
            {"name": "c", "platform": "cisco_ios"},
        ],
    )
    run = run_cli("inventory", "check", bad, tmp=tmp_path)
    assert run.returncode == 2
    assert "with ssh, give platform" in run.stderr
    assert "give key_file or password_env" in run.stderr
    assert "give config (saved files) or ssh" in run.stderr


def test_ctrl_c_stops_a_pull(keys: dict[str, Any], servers: list[SshServer], tmp_path: Path) -> None:
    """Ctrl-C during a pull ends it as Ctrl-C ends the other commands: exit 130 and
    "interrupted", not exit 3 with a connection error for the relay being fetched
    and attempts at the ones after it (the terminal's SIGINT also ends the OpenSSH
    client, which scrapli reports as a failed session)."""
    ssh = _hung_device(keys, servers, tmp_path, timeout="30s")
    relays = [{"name": name, "platform": "cisco_ios", "ssh": ssh} for name in ("sw1", "sw2")]
    inventory = _inventory(tmp_path, relays)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fovalidate", "relays", "pull", str(inventory), "--out", str(out)]
    proc = start_foreground_job(command, clean_env())
    try:
        time.sleep(3)  # logged in by now, waiting for the hung device's answer
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the whole foreground job
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "interrupted" in stderr and "Traceback" not in stderr, (proc.returncode, stdout, stderr)
    assert "sw2" not in stdout + stderr, stderr  # the relay after it was not tried
    assert not out.exists() or not list(out.iterdir())
