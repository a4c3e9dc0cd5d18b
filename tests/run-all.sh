#!/usr/bin/env bash
# Install everything the tests need, then run them all (lint, then pytest).
#
#   sudo tests/run-all.sh            # from the repository root, on Debian 12
#
# As root it installs the Debian packages that provide real protocol peers
# (chrony + libfaketime, dnsmasq, nftables, iproute2) with service start-up
# blocked, so no daemon touches the host clock or port 53. Without root,
# tests that need those peers or network namespaces are skipped with a reason;
# CI runs as root with FOVALIDATE_REQUIRE_PEERS=1, where a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# dnsmasq-base is the program alone (no service to start); the tests run their own instances.
# prometheus brings promtool (the service stays off: policy-rc.d below); the tests check --prometheus files with it.
# openssh-server: the relay SSH tests start their own sshd on loopback (never the service); openssh-client: `ssh`.
# libxml2-utils: xmllint validates the JUnit report; chromium renders the HTML report headless.
# kea-dhcp4-server and kea-ctrl-agent: the tests start real Kea HA pairs on loopback (tests/kea).
APT_PACKAGES=(chrony libfaketime dnsmasq-base nftables iproute2 openssl python3-venv python3-dev gcc prometheus
              openssh-server openssh-client libxml2-utils chromium kea-dhcp4-server kea-ctrl-agent)

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        # Keep apt from starting chronyd (it would discipline the host clock), dnsmasq (port 53),
        # prometheus (port 9090; only promtool is used), sshd (port 22; the tests run their own) or Kea:
        # invoke-rc.d and deb-systemd-invoke ask policy-rc.d, and exit code 101 means "do not start".
        # The trap removes it again even when apt fails half-way.
        created_policy=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            created_policy=1
            trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        if [ "$created_policy" = 1 ]; then
            rm -f /usr/sbin/policy-rc.d
            trap - EXIT
        fi
    fi
fi

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q -e ".[test]"

"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
# Types: fovalidate/ and checks/ (configured in pyproject.toml; strict on the plugin contract).
"$VENV/bin/mypy"
# pytest exits 5 when it collects nothing; set -e makes that a failure too.
exec "$VENV/bin/python" -m pytest "$@"
