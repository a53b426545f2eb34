"""The reference's certificate trust list and `opcp ctl verify` against it: a valid CTL
from a running reference verifies (file, URL and target), a tampered one is refused naming
the rule, the CTL follows the RCP with a higher sequence number, and the RCP carries the
optional RootCertV2 fields (crossCertificatePair of the demo ecosystem)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from opcp.errors import BadRequest
from opcp_cli import main
from opcp_reference.domain import ctl as reference_ctl
from opcp_reference.domain import pki, rcp
from opcp_reference.faults import Faults
from opcp_reference.server import EmbeddedReference, open_reference, write_target_file
from v2g.pki import ctl
from v2g.pki.cross import decode_pair


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    with EmbeddedReference(tmp_path_factory.mktemp("ctl")) as ref:
        write_target_file(ref.ref, ref.base_url)
        yield ref


def test_the_reference_ctl_lists_the_pool_and_verifies_pinned_to_root_1(reference):
    document = reference_ctl.published(reference.ref.store, Faults())
    root1 = pki.ca(reference.ref.store, "v2g1.root").cert
    verified = ctl.verify(document, anchors=[root1])
    roots = rcp.list_roots(reference.ref.store, None, Faults())
    pool = [(r["fingerprint"], r["rootType"])
            for r in roots["RootCertificateCollection"]["rootCertificates"]]
    assert ctl.differences(verified, pool) == []
    # The demo ecosystem's cross-certificate: root 2 vouches for root 1.
    crossed = [r for r in verified.roots if r.cross_certificates]
    assert len(crossed) == 1
    assert crossed[0].cross_certificates[0].subject == root1.subject


def test_the_ctl_is_served_again_until_the_pool_changes(tmp_path):
    ref = open_reference(tmp_path)
    first = reference_ctl.published(ref.store, Faults())
    assert reference_ctl.published(ref.store, Faults()) == first
    root_id = rcp.list_roots(ref.store, "oem", Faults())[
        "RootCertificateCollection"]["rootCertificates"][0]["rootCertificateId"]
    rcp.delete_root(ref.store, root_id)
    second = reference_ctl.published(ref.store, Faults())
    assert second["CTL"]["sequenceNumber"] == first["CTL"]["sequenceNumber"] + 1
    assert len(second["CTL"]["trustedRoots"]) == len(first["CTL"]["trustedRoots"]) - 1
    # The fault keeps the old list.
    rcp.delete_root(ref.store, rcp.list_roots(ref.store, "oem", Faults())[
        "RootCertificateCollection"]["rootCertificates"][0]["rootCertificateId"])
    assert reference_ctl.published(ref.store, Faults(["ctl-not-reissued"])) == second
    ref.store.close()


def test_the_pool_serves_the_optional_fields(reference):
    roots = rcp.list_roots(reference.ref.store, "v2g", Faults())[
        "RootCertificateCollection"]["rootCertificates"]
    assert all(len(r["fingerprintSha1"]) == 40 and r["xsdMsgDefNamespace"] for r in roots)
    pairs = [decode_pair(base64.b64decode(r["crossCertificatePair"])) for r in roots
             if "crossCertificatePair" in r]
    assert len(pairs) == 1 and pairs[0].issued_by_this_ca is not None


def test_a_cross_pair_that_does_not_fit_the_root_is_refused(reference):
    root2 = next(r for r in rcp.list_roots(reference.ref.store, "v2g", Faults())[
        "RootCertificateCollection"]["rootCertificates"] if "crossCertificatePair" in r)
    from v2g.pki.builder import issue
    other = issue("v2g_root", "Suite Other Root")
    with pytest.raises(BadRequest) as exc:
        rcp.save_root(reference.ref.store, {
            "caCertificate": base64.b64encode(other.der).decode(), "rootType": "V2G",
            "crossCertificatePair": root2["crossCertificatePair"]}, Faults())
    assert "crossCertificatePair.issuedByThisCA" in str(exc.value.messages)
    with pytest.raises(BadRequest) as exc:
        rcp.save_root(reference.ref.store, {
            "caCertificate": base64.b64encode(other.der).decode(), "rootType": "V2G",
            "crossCertificatePair": "MAA="}, Faults())
    assert "pair.empty" in str(exc.value.messages)


def test_opcp_ctl_verify_accepts_the_reference_ctl_and_refuses_a_tampered_one(
        reference, tmp_path, capsys):
    document = reference_ctl.published(reference.ref.store, Faults())
    good = tmp_path / "ctl.json"
    good.write_text(json.dumps(document))
    anchor = tmp_path / "root1.pem"
    anchor.write_bytes(pki.ca(reference.ref.store, "v2g1.root").cert.public_bytes(Encoding.PEM))
    assert main(["ctl", "verify", str(good), "--anchor", str(anchor)]) == 0
    assert "(pinned)" in capsys.readouterr().out
    assert main(["ctl", "verify", "--target", str(reference.ref.data_dir / "target.toml")]) == 0
    tampered = json.loads(good.read_text())
    tampered["CTL"]["trustedRoots"].pop(0)  # an MO root: sorted by type
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    assert main(["ctl", "verify", str(bad)]) == 1
    assert "signature.value" in capsys.readouterr().out
    assert main(["ctl", "verify", str(good), "--previous-sequence",
                 str(document["CTL"]["sequenceNumber"] + 1), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["rule"] == "ctl.sequence"
    (tmp_path / "junk.json").write_text("{not json")
    assert main(["ctl", "verify", str(tmp_path / "junk.json")]) == 2


def test_the_ctl_over_http_answers_the_spec_envelope(reference):
    import httpx

    from opcp.client import OpcpClient
    from opcp.target import load

    client = OpcpClient(load(reference.ref.data_dir / "target.toml"))
    got = client.op("getCertificateTrustList", role="CPO")
    client.close()
    assert got.status == 200
    body = got.json()
    assert set(body) == {"signerCertificate", "timeStamp", "CTL"}
    assert datetime.fromisoformat(body["timeStamp"].replace("Z", "+00:00")) <= datetime.now(UTC)
    assert httpx.get(got.url).status_code == 401
