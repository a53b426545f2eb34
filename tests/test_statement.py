"""What a run leaves to open and hand over, rendered in headless Chromium: the HTML report as
one file that opens from disk (file://, no server) with the run's score in it, and the
one-page conformance statement, HTML and PDF, whose content is checked (pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from opcp import paths, results
from opcp.paths import REPO
from opcp_cli.statement import CHROMIUM_FLAGS
from tests.conftest import need_tool

pytestmark = pytest.mark.slow  # Chromium prints the statement


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("statement")
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "check", "--quiet", "-k", "rootType or obtains",
                           "--reference-fault", "rcp-filter-ignored", "--results", str(tmp / "allure"),
                           "--junit", str(tmp / "junit.xml")], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return tmp, proc.stdout


def _text(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", dom, flags=re.S)))


def test_the_statement_renders_as_html_and_a_one_page_pdf(run, tmp_path):
    chromium = need_tool(shutil.which("chromium") or shutil.which("chromium-browser"), "Debian's chromium")
    pdftotext = need_tool(shutil.which("pdftotext"), "pdftotext (poppler-utils)")
    tmp, console = run
    out = tmp_path / "statement"
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "report", "--statement", "--results",
                           str(tmp / "allure"), "--output", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    record = results.read_score(tmp / "allure")
    overall = f"{record['scores']['overall']:.1f}%"
    assert f"overall {overall}" in console  # the console's figure is the statement's
    sha = results.digest(tmp / "allure")
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p'}", "--dump-dom",
                          (out / "statement.html").as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    pdf = subprocess.run([pdftotext, "-layout", str(out / "statement.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    pages = subprocess.run(["pdfinfo", str(out / "statement.pdf")], capture_output=True, text=True).stdout \
        if shutil.which("pdfinfo") else "Pages: 1"
    assert re.search(r"Pages:\s+1\b", pages), pages
    for text in (_text(dom), " ".join(pdf.split())):
        assert "OPCP Conformance Statement" in text
        assert "OPCP 1.0.0" in text and "cf4d940" in text and "opcp-harness" in text
        assert "strict" in text and "auth, rcp, pcp" in text
        assert overall in text and "RCP-FILTER" in text and "3 checks failed" in text
        assert "Every check was applicable" in text
        assert sha[:40] in text.replace(" ", "")


def test_the_report_is_one_file_that_opens_from_disk_with_the_score(run, tmp_path):
    chromium = need_tool(shutil.which("chromium") or shutil.which("chromium-browser"), "Debian's chromium")
    need_tool(paths.allure_command(), "the Allure command line")
    tmp, _ = run
    html = tmp_path / "html"
    subprocess.run([sys.executable, "-m", "opcp_cli", "report", "--results", str(tmp / "allure"), "--output",
                    str(html)], cwd=REPO, check=True, capture_output=True, timeout=300)
    assert [p.name for p in html.iterdir()] == ["index.html"]
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p'}",
                          "--virtual-time-budget=15000", "--dump-dom", (html / "index.html").as_uri() + "#"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    text = _text(dom)
    record = results.read_score(tmp / "allure")
    assert "Failed to fetch" not in text
    assert f"score {record['scores']['overall']:.1f}% (strict)" in text, text[:800]


def test_report_serve_serves_the_report_until_ctrl_c(run, tmp_path):
    import signal
    import time
    import urllib.request

    from tests.conftest import free_port

    need_tool(paths.allure_command(), "the Allure command line")
    tmp, _ = run
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "report", "--serve", "--port", str(port),
                             "--results", str(tmp / "allure"), "--output", str(tmp_path / "served")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, page = time.monotonic() + 180, ""
        while time.monotonic() < deadline and not page:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5).read().decode()
            except OSError:
                time.sleep(0.5)
        assert "<html" in page.lower()
        widgets = urllib.request.urlopen(f"http://127.0.0.1:{port}/widgets/summary.json", timeout=5).read()
        assert b"score" in widgets  # the report's name carries the score
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "serving the report on" in out and "Traceback" not in out
