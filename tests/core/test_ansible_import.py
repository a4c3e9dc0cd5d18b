"""`fovalidate inventory import-ansible` on what the real `ansible-inventory --list`
(ansible-core, a test dependency) prints for real Ansible inventories: YAML and
INI sources, group_vars/host_vars files, child groups, a vault-encrypted
password, `--export` output, stdin and files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.cli import clean_env, run_cli

from fovalidate.inventory import load_inventory

PASSWORD = "Ansible-Pa55word!"
VAULTED = "Vaulted-Pa55word!"


def _tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    path = str(found) if found.exists() else shutil.which(name)
    assert path, f"{name} not found: install ansible-core (pip install -e '.[test]')"
    return path


def _ansible(*args: str, cwd: Path) -> str:
    env = clean_env({"ANSIBLE_LOCAL_TEMP": str(cwd / ".ansible-tmp"), "HOME": str(cwd)})
    proc = subprocess.run(
        [_tool(args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _import(*args: str | Path, tmp: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "fovalidate", "inventory", "import-ansible", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        env=clean_env(),
        timeout=60,
        cwd=tmp,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def ansible_estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Ansible inventory as admins keep it: hosts file, group_vars, host_vars, a vaulted password."""
    folder = tmp_path_factory.mktemp("ansible")
    (folder / "vault-password").write_text("vault-key\n", encoding="utf-8")
    vaulted = _ansible(
        "ansible-vault",
        "encrypt_string",
        "--vault-password-file",
        "vault-password",
        VAULTED,
        "--name",
        "ansible_password",
        cwd=folder,
    )
    inventory = folder / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "host_vars").mkdir()
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "windows": {
                            "children": {
                                "dhcp_servers": {
                                    "hosts": {
                                        "dhcp1": {"ansible_host": "10.0.1.1"},
                                        "dhcp2.corp.example.com": {"ansible_host": "10.0.1.2"},
                                    },
                                    "children": {"branch_dhcp": {"hosts": {"branch-dhcp": None}}},
                                }
                            },
                            "hosts": {"dc1": {"ansible_host": "10.0.0.10"}},
                        },
                        "linux": {"hosts": {"web1": {"ansible_host": "10.9.9.9"}}},
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    (inventory / "group_vars" / "windows.yml").write_text(
        "ansible_connection: winrm\n"
        "ansible_user: 'CORP\\svc-ansible'\n"
        f"ansible_password: '{PASSWORD}'\n"
        "ansible_winrm_transport: [credssp, ntlm]\n"
        "ansible_winrm_server_cert_validation: validate\n",
        encoding="utf-8",
    )
    (inventory / "group_vars" / "branch_dhcp.yml").write_text(
        "ansible_port: 5985\nansible_user: 'BRANCH\\dhcp-admin'\n" + vaulted, encoding="utf-8"
    )
    (inventory / "host_vars" / "branch-dhcp.yml").write_text("ansible_host: 10.51.0.10\n", encoding="utf-8")
    (inventory / "host_vars" / "dhcp2.corp.example.com.yml").write_text(
        "ansible_port: 5986\nansible_winrm_scheme: https\nansible_winrm_server_cert_validation: ignore\n"
        "ansible_winrm_transport: kerberos\n",
        encoding="utf-8",
    )
    return folder


def _servers(text: str) -> dict[str, dict[str, Any]]:
    return {server["name"]: server for server in yaml.safe_load(text)["servers"]}


@pytest.mark.parametrize("export", [False, True], ids=["merged", "export"])
def test_import_from_ansible_inventory(ansible_estate: Path, tmp_path: Path, export: bool) -> None:
    listing = _ansible(
        "ansible-inventory",
        "-i",
        "inventory",
        "--list",
        *(["--export"] if export else []),
        cwd=ansible_estate,
    )
    proc = _import("-", "--group", "dhcp_servers", tmp=tmp_path, stdin=listing)
    assert proc.returncode == 0, proc.stderr
    servers = _servers(proc.stdout)
    # The group's own hosts and its child group's; not dc1 (parent group) nor web1.
    assert sorted(servers) == ["branch-dhcp", "dhcp1", "dhcp2.corp.example.com"]
    assert servers["dhcp1"] == {
        "name": "dhcp1",
        "address": "10.0.1.1",
        "winrm": {
            "transport": "ntlm",  # credssp first in Ansible's list: fovalidate takes the first it supports
            "server_cert_validation": "validate",
            "username": "CORP\\svc-ansible",
            "password_env": "FOVALIDATE_PASSWORD",
        },
    }
    assert servers["dhcp2.corp.example.com"]["fqdn"] == "dhcp2.corp.example.com"
    assert servers["dhcp2.corp.example.com"]["winrm"] == {
        "port": 5986,
        "transport": "kerberos",
        "scheme": "https",
        "server_cert_validation": "ignore",
        "username": "CORP\\svc-ansible",
        "password_env": "FOVALIDATE_PASSWORD",
    }
    # Child group vars override the parent's; host_vars override both; port 5985 means http in Ansible.
    branch = servers["branch-dhcp"]
    assert branch["address"] == "10.51.0.10"
    assert branch["winrm"]["port"] == 5985 and branch["winrm"]["scheme"] == "http"
    assert branch["winrm"]["username"] == "BRANCH\\dhcp-admin"
    # Another account, another variable (its password differs).
    assert branch["winrm"]["password_env"] == "FOVALIDATE_PASSWORD_BRANCH_DHCP_ADMIN"
    # No password, plain or vaulted, in anything written.
    for text in (proc.stdout, proc.stderr):
        assert PASSWORD not in text and VAULTED not in text and "ANSIBLE_VAULT" not in text
    assert "set FOVALIDATE_PASSWORD to the WinRM password of CORP\\svc-ansible" in proc.stderr
    assert (
        "set FOVALIDATE_PASSWORD_BRANCH_DHCP_ADMIN to the WinRM password of BRANCH\\dhcp-admin" in proc.stderr
    )
    assert "credssp" in proc.stderr  # the note about the unsupported first transport
    # The output is an inventory fovalidate accepts as it is.
    out = tmp_path / "imported.yaml"
    out.write_text(proc.stdout, encoding="utf-8")
    loaded = load_inventory(out)
    assert [s.name for s in loaded.model.servers] == list(servers)


def test_ini_inventory_from_a_file_and_out(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text(
        "[dhcp]\n"
        "dhcp1 ansible_host=10.0.1.1\n"
        "dhcp2 ansible_host=10.0.1.2 ansible_connection=ssh ansible_port=22\n"
        "[dhcp:vars]\n"
        "ansible_connection=winrm\n"
        "ansible_user=svc-local\n"
        f"ansible_password={PASSWORD}\n"
        "ansible_winrm_transport=ntlm,basic\n",
        encoding="utf-8",
    )
    listing = tmp_path / "listing.json"
    listing.write_text(
        _ansible("ansible-inventory", "-i", "hosts.ini", "--list", cwd=tmp_path), encoding="utf-8"
    )
    out = tmp_path / "fovalidate.yaml"
    proc = _import(listing, "--group", "dhcp", "--out", out, "--password-env", "DHCP_PW", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    servers = _servers(out.read_text(encoding="utf-8"))
    assert servers["dhcp1"]["winrm"] == {
        "transport": "ntlm",
        "username": "svc-local",
        "password_env": "DHCP_PW",
    }
    # dhcp2 is reached over SSH by Ansible: port 22 is not a WinRM port, and the user is told.
    assert "port" not in servers["dhcp2"]["winrm"]
    assert "dhcp2: Ansible connects with 'ssh'" in proc.stderr
    assert PASSWORD not in out.read_text(encoding="utf-8") + proc.stderr
    # --out does not overwrite without --force.
    again = _import(listing, "--group", "dhcp", "--out", out, tmp=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr


def test_problems_are_named(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "dhcp": {
                    "hosts": {
                        "named": {"ansible_host": "localhost"},
                        "clear": {"ansible_host": "10.0.1.3", "ansible_winrm_scheme": "http"},
                    },
                    "vars": {"ansible_connection": "winrm", "ansible_winrm_transport": "basic"},
                }
            }
        ),
        encoding="utf-8",
    )
    listing = _ansible("ansible-inventory", "-i", "hosts.yml", "--list", cwd=tmp_path)
    proc = _import("--group", "dhcp", tmp=tmp_path, stdin=listing)
    assert proc.returncode == 2
    assert "host named: its address 'localhost' is a name" in proc.stderr and "--resolve" in proc.stderr
    # Basic authentication over http is refused by the inventory model, named per host.
    assert "host clear: winrm" in proc.stderr and "clear text" in proc.stderr
    # --resolve asks the system resolver (localhost: /etc/hosts, no traffic); the model's refusal stays.
    resolved = _import("--group", "dhcp", "--resolve", tmp=tmp_path, stdin=listing)
    assert "host named" not in resolved.stderr and "host clear: winrm" in resolved.stderr
    assert (
        _import("--group", "nosuch", tmp=tmp_path, stdin=listing).stderr.count("not in the Ansible inventory")
        == 1
    )
    not_json = _import("--group", "dhcp", tmp=tmp_path, stdin="[dhcp]\nhost1\n")
    assert not_json.returncode == 2 and "ansible-inventory -i YOUR-INVENTORY --list" in not_json.stderr


def test_imported_inventory_runs(ansible_estate: Path, tmp_path: Path) -> None:
    """The imported file is a starting point `fovalidate inventory check` accepts offline."""
    listing = _ansible("ansible-inventory", "-i", "inventory", "--list", cwd=ansible_estate)
    out = tmp_path / "inventory.yaml"
    assert _import("-", "--group", "windows", "--out", out, tmp=tmp_path, stdin=listing).returncode == 0
    run = run_cli("inventory", "check", out, tmp=tmp_path)
    assert run.returncode == 0 and "4 servers" in run.stdout, run.stdout + run.stderr
