"""Verdicts a vendor can act on: rule and reproducer per failure, two axes, the score gate,
stamped runs, and outline examples as separate results with their parameters."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from opcp import results
from opcp.paths import REPO

pytestmark = pytest.mark.slow  # whole suite runs with faults


def check(tmp_path, *args: str) -> tuple[int, str, list[results.Outcome]]:
    out = tmp_path / "allure"
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "check", "--results", str(out),
                           "--junit", str(tmp_path / "junit.xml"), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr, results.read(out)


def attachments(result: dict) -> list[dict]:
    """A result's attachments, its steps' included (exchanges sit under the step that made them)."""
    found = list(result.get("attachments", []))
    for step in result.get("steps", []):
        found += attachments(step)
    return found


@pytest.fixture(scope="module")
def filter_fault_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("filter")
    return tmp, *check(tmp, "--reference-fault", "rcp-filter-ignored")


def test_a_failure_names_its_rule_and_how_to_replay_it(filter_fault_run):
    tmp, code, output, outcomes = filter_fault_run
    assert code == 1
    assert "RCP-FILTER (reference/rcp.v1.json getAllRootCerts rootType)" in output
    assert "reproduce: curl -sS -i -X GET" in output and "rootType=" in output
    failed = [o for o in outcomes if o.failed]
    assert failed and all(o.rule == "RCP-FILTER" for o in failed)
    reproducers = [a for p in (tmp / "allure").glob("*-result.json")
                   for a in attachments(json.loads(p.read_text())) if a["name"] == "reproducer"]
    assert len(reproducers) == len(failed)
    text = (tmp / "allure" / reproducers[0]["source"]).read_text()
    assert "curl" in text and "$OPCP_TOKEN" in text


def test_runs_are_stamped(filter_fault_run):
    tmp, _, output, _ = filter_fault_run
    env = dict(line.split("=", 1) for line in
               (tmp / "allure" / "environment.properties").read_text().splitlines())
    assert env["spec.version"] == "OPCP 1.0.0" and "cf4d940" in env["spec.source"]
    assert env["profile"] == "strict" and env["suite.version"] and env["run.end"]
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp / "junit.xml").iter("property")}
    assert props["spec.version"] == "OPCP 1.0.0" and props["run.start"] <= props["run.end"]
    assert "OPCP 1.0.0" in output.splitlines()[0]
    categories = json.loads((tmp / "allure" / "categories.json").read_text())
    assert any(c["name"] == "Conformance: business" for c in categories)


def test_the_score_gate(filter_fault_run, tmp_path):
    _, _, output, outcomes = filter_fault_run
    overall = results.scores(outcomes)["overall"]
    assert 50 < overall < 100
    assert f"overall {overall:.1f}%" in output
    code, output, _ = check(tmp_path, "--reference-fault", "rcp-filter-ignored",
                            "--min-score", str(int(overall) - 1))
    assert code == 0, output
    code, _, _ = check(tmp_path, "--reference-fault", "rcp-filter-ignored",
                       "--min-score", str(int(overall) + 1))
    assert code == 1


def test_compatibility_findings_fail_strict_and_warn_lenient(tmp_path):
    code, output, outcomes = check(tmp_path, "--reference-fault", "auth-refuse-api-key")
    assert code == 1 and "Compatibility findings:" in output
    assert [o.axis for o in outcomes if o.failed] == ["compatibility"]
    code, output, outcomes = check(tmp_path, "--reference-fault", "auth-refuse-api-key",
                                   "--profile", "lenient")
    assert code == 0, output
    warned = [o for o in outcomes if o.status == results.WARNING]
    assert len(warned) == 1 and "(warning)" in output
    assert results.scores(outcomes, "lenient")["overall"] == 100.0


def test_a_server_following_an_erratum_passes_both_profiles_with_a_note(tmp_path):
    # The reference answering webhook endpoints in payload 1.0.0's form (E-WH-3, another
    # reading the spec supports): every scenario passes in both profiles, the steps reading
    # the subscription under either name, and the results name the erratum as a note.
    args = ("--reference-fault", "webhook-events-named-enabled-events",
            "-k", "creates_reads_updates_lists_and_deletes")
    for profile in ("strict", "lenient"):
        code, output, outcomes = check(tmp_path / profile, *args, "--profile", profile)
        assert code == 0, output
        assert outcomes and all(o.status == "passed" for o in outcomes)
        labels = [label for p in (tmp_path / profile / "allure").glob("*-result.json")
                  for label in json.loads(p.read_text()).get("labels", [])]
        assert {"name": "erratum", "value": "E-WH-3"} in labels, labels


def test_outline_examples_are_separate_results_with_parameters(tmp_path):
    code, _, outcomes = check(tmp_path, "-k", "rootType_filter")
    assert code == 0
    examples = [o for o in outcomes if o.name.startswith("The rootType filter")]
    assert sorted(o.parameters["filter"] for o in examples) == ["'mo'", "'oem'", "'v2g'"] or \
        sorted(o.parameters["filter"] for o in examples) == ["mo", "oem", "v2g"]
    assert len({o.name for o in examples}) == 3


def test_a_reproducer_shows_exi_payloads_decoded():
    from features.support.runner import reproducer
    from opcp.client import Exchange
    from tests.oracle.reference import ccp_examples

    try:
        examples = ccp_examples()
    except OSError as exc:
        pytest.skip(f"the spec's examples are not readable: {exc}")
    req = next(v for k, v in examples.items() if k.startswith("certificateInstallationReq"))
    body = json.dumps({"certificateInstallationReq": __import__("base64").b64encode(req).decode(),
                       "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef"})
    exchange = Exchange("POST", "http://x/v1/ccp/signedContractData", {}, body, 400, {}, "{}",
                        1.0, response=None)
    text = reproducer(exchange)
    assert "# EXI payload decoded:" in text and "CertificateInstallationReq" in text
    assert "OEMProvisioningCert" in text


def test_reports_summarise_the_certificates_exchanged(filter_fault_run):
    tmp, *_ = filter_fault_run
    names = [a["name"] for p in (tmp / "allure").glob("*-result.json")
             for a in attachments(json.loads(p.read_text()))]
    summaries = [n for n in names if n.startswith("certificates in the response of GET")]
    assert summaries, names[:20]


def test_an_erratum_form_passes_both_profiles_and_is_noted():
    from opcp.models import check_response_profiled

    legacy = json.dumps({"id": "e1", "created": 1, "enabledEvents": ["root.cert.added"],
                         "url": "https://x.example/h", "status": "enabled"}).encode()
    args = ("GET", "/v1/webhook/endpoints/e1", 200, "application/json", legacy)
    for profile in ("strict", "lenient"):
        problems, findings = check_response_profiled(*args, profile=profile)
        assert problems == [] and findings and findings[0].startswith("E-WH-3")
    broken = json.dumps({"id": "e1"}).encode()
    problems, _ = check_response_profiled("GET", "/v1/webhook/endpoints/e1", 200,
                                          "application/json", broken, profile="lenient")
    assert problems, "a body that fits neither form is a failure in both profiles"
