"""The conformant wire variants change only what the standards leave open, and the suite passes
a target answering through each (opcp_cli.wire_proxy.py, --wire-variant)."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys

import pytest
from multidict import CIMultiDict

from opcp.paths import REPO
from opcp_cli.wire_proxy import FAULTS, VARIANTS, Answer
from tests.conftest import make_root

BODY = {"id": "e1", "events": ["root.cert.added"], "metadata": {"team": "a"},
        "created": "2026-01-02T03:04:05Z", "url": "https://x.example/h",
        "nested": [{"a": 1, "b": {"c": "d/e"}}]}


def _json_answer() -> Answer:
    return Answer(200, CIMultiDict({"Content-Type": "application/json"}), json.dumps(BODY).encode())


@pytest.mark.parametrize("name", ["json-key-order", "json-whitespace", "json-escaped-slashes"])
def test_json_variants_keep_the_value(name):
    answer = _json_answer()
    VARIANTS[name].change("/v1/x", answer)
    assert answer.body != json.dumps(BODY).encode()
    assert json.loads(answer.body) == BODY


SIGNED = {"signerCertificate": "MIIB", "timeStamp": "2026-01-10T12:00:00Z",
          "CTL": {"format": "opcp-ctl/1", "thisUpdate": "2026-01-10T12:00:00Z",
                  "signature": {"algorithm": "ecdsa-with-SHA256", "value": "MEUC"}}}


@pytest.mark.parametrize("name", ["extra-properties", "date-time-offset"])
def test_value_changing_variants_leave_a_signed_body_as_its_signer_made_it(name):
    # Adding or rewriting members after signing is tampering: the suite must refuse that.
    answer = Answer(200, CIMultiDict({"Content-Type": "application/json"}), json.dumps(SIGNED).encode())
    VARIANTS[name].change("/v1/root/ctl", answer)
    assert json.loads(answer.body) == SIGNED


def test_value_keeping_variants_reach_signed_bodies_too():
    # The signature is over the canonical form of the value, so a re-ordered body still verifies.
    answer = Answer(200, CIMultiDict({"Content-Type": "application/json"}), json.dumps(SIGNED).encode())
    VARIANTS["json-key-order"].change("/v1/root/ctl", answer)
    assert answer.body != json.dumps(SIGNED).encode() and json.loads(answer.body) == SIGNED


def test_extra_members_at_every_level_but_inside_the_clients_own_data():
    answer = _json_answer()
    VARIANTS["extra-properties"].change("/v1/x", answer)
    got = json.loads(answer.body)
    assert "xVendorExtension" in got and "xVendorExtension" in got["nested"][0]
    assert "xVendorExtension" in got["nested"][0]["b"]
    assert got["metadata"] == {"team": "a"}  # metadata is the client's, never extended


def test_date_times_get_an_offset_and_fractional_seconds():
    answer = _json_answer()
    VARIANTS["date-time-offset"].change("/v1/x", answer)
    assert json.loads(answer.body)["created"] == "2026-01-02T03:04:05.000+00:00"


def test_header_variants():
    answer = _json_answer()
    VARIANTS["json-charset"].change("/v1/x", answer)
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    VARIANTS["media-type-case"].change("/v1/x", answer)
    assert answer.headers["Content-Type"].startswith("APPLICATION/JSON")
    VARIANTS["extra-headers"].change("/v1/x", answer)
    assert answer.headers["X-Vendor-Request-Id"]


def test_token_type_in_lower_case():
    answer = Answer(200, CIMultiDict({"Content-Type": "application/json"}),
                    json.dumps({"access_token": "t", "token_type": "Bearer"}).encode())
    VARIANTS["token-type-case"].change("/oauth/token", answer)
    assert json.loads(answer.body)["token_type"] == "bearer"


def _pkcs7(*names: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    certs = [x509.load_der_x509_certificate(make_root(n, "MO")) for n in names]
    return base64.b64encode(pkcs7.serialize_certificates(certs, Encoding.DER)) + b"\n"


def test_est_answers_keep_their_certificates():
    from v2g.pki.bundle import load_certs

    original = _pkcs7("One", "Two", "Three")
    for name in ("est-base64-crlf", "pkcs7-certificate-order"):
        answer = Answer(200, CIMultiDict({"Content-Type": "application/pkcs7-mime"}), original)
        VARIANTS[name].change("/.well-known/est/cpo/cacerts/ISO15118-2/secp256r1", answer)
        assert answer.body != original
        assert {c.subject for c in load_certs(answer.body)} == {c.subject for c in load_certs(original)}
    answer = Answer(200, CIMultiDict({"Content-Type": "application/pkcs7-mime"}), original)
    VARIANTS["est-base64-crlf"].change("/.well-known/est/cpo/cacerts/x/y", answer)
    assert all(len(line) <= 76 for line in answer.body.split(b"\r\n"))


def test_gzip_decodes_to_the_same_body():
    answer = _json_answer()
    VARIANTS["gzip-content-encoding"].change("/v1/x", answer)
    assert answer.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(answer.body)) == BODY


def test_there_are_at_least_twenty_conformant_variants():
    from opcp_reference.faults import VARIANTS as REFERENCE_VARIANTS

    assert len(VARIANTS) + len(REFERENCE_VARIANTS) >= 20


@pytest.mark.slow  # suite runs through the proxy
@pytest.mark.parametrize("variant", ["extra-properties", "media-type-case", "pkcs7-certificate-order"])
def test_the_suite_passes_a_target_answering_through_the_variant(variant):
    # Judged on the conformance axis: a conformant form may still break a deployed client (a
    # reversed PKCS#7 breaks CitrineOS, which reads by position): that is a compatibility
    # finding, which is the point of that axis (features/clients.feature).
    proc = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "--wire-variant", variant,
                           "-m", "(rcp or est) and not clients", "-p", "no:cacheprovider",
                           "--tb=line", "-p", "no:xdist"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    tail = proc.stdout[-3000:]
    assert proc.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail.splitlines()[-1]


@pytest.mark.slow  # suite runs through the proxy
def test_selftest_judges_the_reference_variants():
    from opcp_reference.faults import VARIANTS as REFERENCE

    names = sorted(REFERENCE)
    command = [sys.executable, "-m", "opcp_cli", "selftest", "--jobs", "2"]
    for name in names:
        command += ["--variant", name]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"passed {len(names)} of {len(names)} conformant variants" in proc.stdout


# ----------------------------------------------------------------------------- wire faults

def test_each_wire_fault_breaks_what_it_says_on_a_sample_answer():
    error = Answer(404, CIMultiDict({"Content-Type": "application/json"}),
                   json.dumps({"errorMessages": ["no"], "traceId": "t"}).encode())
    FAULTS["wire-error-without-trace-id"].change("/v1/x", error)
    assert "traceId" not in json.loads(error.body)
    FAULTS["wire-not-found-as-200"].change("/v1/x", error)
    assert error.status == 200 and json.loads(error.body) == {}
    token = Answer(200, CIMultiDict({"Content-Type": "application/json"}),
                   json.dumps({"access_token": "a", "expires_in": 60, "token_type": "Bearer"}).encode())
    FAULTS["wire-token-without-expires-in"].change("/oauth/token", token)
    assert "expires_in" not in json.loads(token.body)
    dated = _json_answer()
    FAULTS["wire-date-times-without-offset"].change("/v1/x", dated)
    assert json.loads(dated.body)["created"] == "2026-01-02T03:04:05"
    est = Answer(200, CIMultiDict({"Content-Type": "application/pkcs7-mime"}), _pkcs7("One"))
    FAULTS["wire-est-binary-body"].change("/.well-known/est/cpo/cacerts", est)
    assert est.body[:1] == b"\x30"  # DER
    ctl = Answer(200, CIMultiDict({"Content-Type": "application/json"}),
                 json.dumps({**SIGNED, "CTL": {**SIGNED["CTL"], "sequenceNumber": 3}}).encode())
    FAULTS["wire-ctl-changed-after-signing"].change("/v1/root/ctl", ctl)
    assert json.loads(ctl.body)["CTL"]["sequenceNumber"] == 4


@pytest.mark.slow  # suite runs through the proxy
def test_the_proxy_counts_the_answers_a_fault_altered(tmp_path):
    # auth scenarios never read a trust list: the CTL fault alters nothing there, which is how
    # selftest tells "not applicable to this target" from "survived".
    for tags, altered in (("auth and not security", False), ("ctl", True)):
        out = tmp_path / tags.split()[0]
        proc = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "-m", tags,
                               "--wire-fault", "wire-ctl-changed-after-signing", "-p", "no:cacheprovider",
                               "-p", "no:xdist", f"--alluredir={out}", "--tb=no"],
                              cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
        counts = json.loads((out / "wire.json").read_text())
        assert counts["answers"] > 0, proc.stdout[-2000:]
        assert (counts["changed"] > 0) is altered, counts
        assert (proc.returncode != 0) is altered, proc.stdout[-2000:]


@pytest.mark.slow  # suite runs through the proxy
def test_selftest_proves_the_suite_in_front_of_a_deployment(served):
    # A deployment that is not embedded (here the reference as a separate process): the wire
    # faults and variants play in front of it, judged against its own unchanged run.
    target = str(served.data_dir / "target.toml")
    proc = subprocess.run([sys.executable, "-m", "opcp_cli", "selftest", "--target", target, "--jobs", "2",
                           "--tags", "rcp and not ctl", "--fault", "wire-not-found-as-200",
                           "--fault", "wire-date-times-without-offset", "--variant", "json-key-order"],
                          cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "the target unchanged: ran" in proc.stdout
    assert "killed 2 of 2 faulty variants" in proc.stdout
    assert "passed 1 of 1 conformant variants" in proc.stdout
    refused = subprocess.run([sys.executable, "-m", "opcp_cli", "selftest", "--target", target,
                              "--fault", "rcp-filter-ignored"],
                             cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2 and "only the wire faults apply" in refused.stderr
