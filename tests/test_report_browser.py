"""The HTML report renders the suite's results in a real browser (headless Chromium)."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading

import pytest

from opcp import paths, results
from opcp.paths import REPO
from tests.conftest import need_tool

pytestmark = pytest.mark.slow  # Chromium renders the report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic"]


def test_the_report_renders_the_results_in_chromium(tmp_path):
    chromium = need_tool(shutil.which("chromium") or shutil.which("chromium-browser"),
                     "Debian's chromium")
    need_tool(paths.allure_command(), "the Allure command line")
    raw = tmp_path / "results"
    # One failing feature on purpose, so the report must show failed and passed results.
    subprocess.run([sys.executable, "-m", "opcp_cli", "check", "-k", "rootType or obtains",
                    "--reference-fault", "rcp-filter-ignored", "--results", str(raw),
                    "--junit", str(tmp_path / "j.xml")], cwd=REPO, capture_output=True,
                   timeout=300, check=False)
    outcomes = results.read(raw)
    failed = sum(o.failed for o in outcomes)
    passed = sum(o.status == "passed" for o in outcomes)
    assert failed == 3 and passed > 0
    html = tmp_path / "html"
    subprocess.run([sys.executable, "-m", "opcp_cli", "report", "--results", str(raw), "--output",
                    str(html)], cwd=REPO, check=True, capture_output=True, timeout=300)

    # The report loads its data with XHR, so it must be served over HTTP, not file://.
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html#behaviors"
        dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p'}",
                              "--virtual-time-budget=15000", "--dump-dom", url],
                             capture_output=True, text=True, timeout=120, check=True).stdout
    finally:
        server.shutdown()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(
        r"<(script|style).*?</\1>", "", dom, flags=re.S)))
    status = re.search(r"Status: (\d+) (\d+) (\d+)", text)
    assert status, f"the behaviors page did not render: {text[:500]}"
    assert (int(status.group(1)), int(status.group(3))) == (failed, passed), text[:500]
    assert "RCP" in text and "AUTH" in text
