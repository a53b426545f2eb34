"""Preflight and target-file validation, replayed from issue #18: a base URL where nothing
listens, an HTML answer, a wrong client secret (one token request per client, the run stops at
once with one message and exit 2, the verdict recorded), a misspelled key."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opcp import preflight, results
from opcp.paths import REPO
from opcp.target import TargetError, from_dict, load
from tests.conftest import free_port

TWO_CLIENTS = [{"role": "CPO", "client_id": "cpo-1", "client_secret": "wrong"},
               {"role": "MO", "client_id": "mo-1", "client_secret": "also-wrong"}]


class FakeDeployment:
    """A stand-in deployment: answers every request with `status`, `content_type`, `body`,
    and counts the token requests (POSTs to the token endpoint) it gets."""

    def __init__(self, status: int, content_type: str, body: str):
        self.token_requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                if self.command == "POST" and self.path.startswith("/oauth/token"):
                    fake.token_requests += 1
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.end_headers()
                self.wfile.write(body.encode())

            do_GET = do_POST = _answer  # noqa: N815 - the base class's names

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def target_file(tmp_path, base_url: str, **extra) -> str:
    lines = [f'base_url = "{base_url}"', 'audience = "aud"', 'services = ["auth", "rcp"]']
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    for client in TWO_CLIENTS:
        lines += ["[[clients]]", *(f'{k} = "{v}"' for k, v in client.items())]
    path = tmp_path / "target.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_nothing_listening_is_one_problem_naming_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    report = preflight.run(load(target_file(tmp_path, url)))
    assert not report.ok
    assert len(report.failures) == 1  # one dead host, however many services and clients
    message = report.message()
    assert f"{url}/oauth/token" in message and "cannot connect" in message


def test_an_html_answer_is_named_where_json_is_due(tmp_path):
    html = FakeDeployment(200, "text/html", "<html><body>Welcome</body></html>")
    try:
        report = preflight.run(load(target_file(tmp_path, html.url)))
    finally:
        html.close()
    assert not report.ok
    failed = report.failures[0]
    assert failed.role == "CPO" and failed.url == f"{html.url}/oauth/token"
    assert "JSON" in failed.detail and "text/html" in failed.detail


@pytest.mark.slow  # a served reference and a suite run
def test_a_wrong_secret_stops_the_run_at_once_with_one_verdict(tmp_path):
    refusing = FakeDeployment(401, "application/json", '{"error": "invalid_client"}')
    out = tmp_path / "allure"
    try:
        proc = subprocess.run([sys.executable, "-m", "opcp_cli", "check", "--quiet", "--target",
                               target_file(tmp_path, refusing.url), "--results", str(out),
                               "--junit", str(tmp_path / "junit.xml")],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
    finally:
        refusing.close()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    # One token request per client: no retry storm against a brute-force lockout.
    assert refusing.token_requests == len(TWO_CLIENTS)
    assert "preflight failed" in proc.stderr and "(role CPO)" in proc.stderr and "(role MO)" in proc.stderr
    assert f"{refusing.url}/oauth/token" in proc.stderr and "invalid_client" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    # The verdict is in the results: one broken Allure result, one JUnit error, no scenario.
    outcomes = results.read(out)
    assert [o.status for o in outcomes] == ["broken"] and outcomes[0].rule == "PREFLIGHT"
    cases = list(ET.parse(tmp_path / "junit.xml").iter("testcase"))
    assert len(cases) == 1 and cases[0].find("error") is not None


@pytest.mark.parametrize("data, named", [
    ({"jwks_ur": "https://x/jwks"}, "jwks_ur: unknown key; did you mean 'jwks_url'?"),
    ({"tls": {"ca_bundel": "ca.pem"}}, "tls.ca_bundel: unknown key; did you mean 'ca_bundle'?"),
    ({"webhook": {"retry_secs": 2}}, "webhook.retry_secs: unknown key; did you mean 'retry_seconds'?"),
    ({"services": ["webhooks"]}, "services: unknown service 'webhooks'; did you mean 'webhook'?"),
    ({"clients": [{"role": "CPO", "client_id": "c", "client_secrt": "s"}]},
     "clients[0].client_secrt: unknown key; did you mean 'client_secret'?"),
    ({"clients": [{"role": "cpo", "client_id": "c", "client_secret": "s"}]},
     "clients[0].role: unknown role 'cpo'; did you mean 'CPO'?"),
])
def test_unknown_keys_are_errors_with_a_did_you_mean(tmp_path, data, named):
    with pytest.raises(TargetError) as raised:
        from_dict({"base_url": "http://x", "audience": "a", **data}, tmp_path)
    assert named in str(raised.value)


def test_target_check_names_a_misspelled_key_without_a_traceback(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('base_url = "http://x"\naudience = "a"\njwks_ur = "http://x/j"\n')
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "target", "check", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "did you mean 'jwks_url'?" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow  # a served reference and a suite run
def test_a_target_that_goes_away_during_the_run_stops_it_with_one_verdict(served, tmp_path):
    import time

    out = tmp_path / "allure"
    proc = subprocess.Popen([sys.executable, "-m", "opcp_cli", "check", "--quiet", "--target",
                             str(served.data_dir / "target.toml"), "--results", str(out),
                             "--junit", str(tmp_path / "junit.xml")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "preflight.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert json.loads((out / "preflight.json").read_text())["ok"]
        served.stop()  # the deployment goes away after the preflight passed
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, stdout + stderr
    assert "stopped answering during the run" in stderr and "cannot connect" in stderr
    assert served.base_url in stderr and "Traceback" not in stdout + stderr
    outcomes = results.read(out)
    assert [o.rule for o in outcomes if o.rule == "PREFLIGHT"] == ["PREFLIGHT"]
    unreached = [o.name for o in outcomes if o.failed and o.rule != "PREFLIGHT"]
    assert 0 < len(unreached) <= 3, unreached  # not one failure per remaining scenario
