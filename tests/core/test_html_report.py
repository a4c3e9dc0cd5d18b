"""The HTML review report (issue 11, item 5) in a real browser: Debian's headless Chromium.

The demo's report is rendered to a PNG, its DOM after the script ran is
dumped (`--dump-dom`) and checked for every relationship and every failing
finding, once more with JavaScript off (readable without it), and Chromium's
network log is checked for requests the page made. Chromium itself also asks
Google's update and sign-in services for things (even with
--disable-background-networking); those are known by host and set aside, and
`--host-resolver-rules` maps every name to NOTFOUND so that nothing leaves
this machine. A canary page that loads an image from a made-up host shows
that the network log does catch a page's request.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from peers.cli import run_cli

CHROMIUM = shutil.which("chromium")
#: Hosts Chromium itself contacts (component updates, sign-in, time); never the page's.
CHROMIUM_OWN = re.compile(r"(^|\.)(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)$|^~notfound$")
CANARY_HOST = "fovalidate-canary.invalid"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("FOVALIDATE_REQUIRE_PEERS"),
    reason="chromium not installed (apt-get install chromium; tests/run-all.sh does)",
)


def chromium(url: str, folder: Path, *extra: str) -> tuple[str, set[str]]:
    """Run headless Chromium on `url`; return its stdout and the http(s) URLs in its network log."""
    assert CHROMIUM is not None, "chromium is required (FOVALIDATE_REQUIRE_PEERS is set)"
    folder.mkdir(parents=True, exist_ok=True)
    netlog = folder / "net.json"
    done = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--no-first-run", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={folder / 'profile'}",  # a fresh profile each time
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing can leave this machine
            f"--log-net-log={netlog}", "--hide-scrollbars", *extra, url,
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, _urls(netlog)


def _urls(netlog: Path) -> set[str]:
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short at exit lacks its closing brackets
        log = json.loads(text.rstrip(",") + "]}")
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("url", "original_url", "new_url") and isinstance(item, str):
                    found.add(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(log.get("events", []))
    return {url for url in found if url.startswith(("http:", "https:", "ws:", "wss:"))}


def _page_requests(urls: set[str]) -> set[str]:
    return {url for url in urls if not CHROMIUM_OWN.search(urlsplit(url).hostname or "")}


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("html")
    waivers = folder / "waivers.yaml"
    waivers.write_text(
        yaml.safe_dump(
            [
                {"check": "os.version", "target": "win12-dhcp", "reason": "upgrade in Q2 (CHG-1234)",
                 "owner": "infra-team", "expires": "2099-06-30"},
                {"check": "time", "target": "nowhere", "reason": "stale on purpose", "owner": "qa",
                 "expires": "2099-06-30"},
            ]
        ),
        encoding="utf-8",
    )  # fmt: skip
    run = run_cli("demo", "--html", folder / "report.html", "--waivers", waivers, tmp=folder)
    assert run.report is not None and run.returncode == 1
    return folder / "report.html", run.report


class _Articles(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[str, str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "article" and "data-check" in values:
            self.found.add(
                (str(values["data-check"]), str(values["data-target"]), str(values["data-status"]))
            )


def _articles(dom: str) -> set[tuple[str, str, str]]:
    """(check, target, status) of every finding block in a DOM (attribute values unescaped)."""
    parser = _Articles()
    parser.feed(dom)
    return parser.found


class _Resources(HTMLParser):
    """Every URL the page would load by itself (not links a person may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "srcset", "data", "poster", "background"):
            if values.get(name):
                self.loads.append(str(values[name]))
        if tag in ("link", "image", "use") and values.get("href"):
            self.loads.append(str(values["href"]))
        if values.get("style"):
            self.loads.extend(re.findall(r"url\(([^)]*)\)", str(values["style"])))


def test_html_is_self_contained(demo_html) -> None:
    path, _ = demo_html
    text = path.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(text)
    assert all(url.startswith("data:") for url in parser.loads), parser.loads
    assert "@import" not in text and not re.search(r"url\((?!data:)", text)
    assert "<script src" not in text


def test_chromium_renders_every_relationship_and_problem(demo_html, tmp_path: Path) -> None:
    path, report = demo_html
    dom, urls = chromium(path.as_uri(), tmp_path / "js", "--dump-dom")
    assert _page_requests(urls) == set(), _page_requests(urls)
    for relationship in ("hq-dhcp1-dhcp2", "branch1-standby", "lab-dhcp2", "branch2-standby", "dr-standby",
                         "win-pair"):  # fmt: skip
        assert f'id="rel-{relationship}"' in dom, relationship
        assert f'data-relationship="{relationship}"' in dom, relationship  # a line in the picture
    articles = _articles(dom)
    problems = [f for f in report["findings"] if f["status"] in ("fail", "warn") or f["waived"]]
    for finding in problems:
        assert (finding["check"], finding["target"], finding["status"]) in articles, finding
    errors = [f for f in report["findings"] if f["status"] == "error"]
    assert "dr-dhcp: WinRM credentials rejected — 10 checks not run" in dom
    for finding in errors:
        assert finding["check"] in dom
    assert "Could not check everything on:" in dom and "dr-dhcp (WinRM credentials rejected)" in dom
    assert re.search(r'<p class="verdict code-1"[^>]*>NOT READY', dom)
    assert 'class="copy"' in dom  # the script added copy buttons
    assert "WAIVED" in dom and "upgrade in Q2 (CHG-1234)" in dom and "stale: matched nothing" in dom
    assert report["inventory"]["sha256"] in dom
    for relay in ("core-sw1", "dist-a", "dist-b"):
        assert f'data-relay="{relay}"' in dom


def test_readable_without_javascript(demo_html, tmp_path: Path) -> None:
    """The same file with every script blocked by a Content-Security-Policy, as a mail
    client or a locked-down browser does (Chromium's --dump-dom itself needs scripting on)."""
    path, report = demo_html
    blocked = tmp_path / "no-script.html"
    blocked.write_text(
        path.read_text(encoding="utf-8").replace(
            "<head>", '<head><meta http-equiv="Content-Security-Policy" content="script-src \'none\'">', 1
        ),
        encoding="utf-8",
    )
    dom, _ = chromium(blocked.as_uri(), tmp_path / "nojs", "--dump-dom")
    assert 'class="copy"' not in dom  # the script did not run ...
    articles = _articles(dom)
    for finding in report["findings"]:
        if finding["status"] in ("fail", "warn"):  # ... and every problem is there all the same
            assert (finding["check"], finding["target"], finding["status"]) in articles


def test_screenshot(demo_html, tmp_path: Path) -> None:
    path, _ = demo_html
    shot = tmp_path / "report.png"
    _, urls = chromium(path.as_uri(), tmp_path / "png", f"--screenshot={shot}", "--window-size=1280,1000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert _page_requests(urls) == set()


def test_the_network_log_catches_a_page_request(tmp_path: Path) -> None:
    """Negative control: a page that loads an image from elsewhere is caught."""
    canary = tmp_path / "canary.html"
    canary.write_text(f'<!DOCTYPE html><img src="http://{CANARY_HOST}/x.png">', encoding="utf-8")
    _, urls = chromium(canary.as_uri(), tmp_path / "canary", "--dump-dom")
    assert any(CANARY_HOST in url for url in _page_requests(urls)), urls
