"""Domain rules of the Provisioning Certificate Pool and the reference's PKI, without HTTP."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from opcp.access import Role
from opcp.errors import BadRequest, Conflict, Forbidden, NotFound
from opcp_reference.domain import demo, pcp, pki, rcp
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.sealing import MAGIC
from tests.conftest import open_test_store
from v2g.pki.builder import issue
from v2g.pki.ocsp import GOOD, OcspResult, Revoked, build_request, verify_response

OEM = Principal("oem-1", Role.OEM, ("WMA", "WMB"))
MO = Principal("mo-1", Role.MO, (), ("DEABC",))
NOW = dt.datetime.now(dt.UTC)


class FakeChecker:
    """OCSP answers by serial, so each test says which certificate is revoked."""

    def __init__(self, revoked: set[int] = frozenset()):
        self.revoked = set(revoked)
        self.asked: list[int] = []

    async def status(self, cert: x509.Certificate, issuer: x509.Certificate) -> OcspResult:
        self.asked.append(cert.serial_number)
        status = Revoked(NOW) if cert.serial_number in self.revoked else GOOD
        return OcspResult(status, NOW, None, issuer)


@pytest.fixture
def store(tmp_path):
    s = open_test_store(tmp_path)
    demo.initialise(s, tmp_path)
    yield s
    s.close()


def _chain(*, expired_sub1: bool = False):
    root = issue("oem_root", "Test OEM Root")
    if expired_sub1:
        sub1 = issue("oem_sub1", "Test Sub1", root, ocsp_url="http://x/ocsp",
                     not_before=NOW - dt.timedelta(days=10), not_after=NOW - dt.timedelta(days=1))
    else:
        sub1 = issue("oem_sub1", "Test Sub1", root, ocsp_url="http://x/ocsp")
    sub2 = issue("oem_sub2", "Test Sub2", sub1, ocsp_url="http://x/ocsp",
                 not_before=NOW - dt.timedelta(hours=1), not_after=NOW + dt.timedelta(days=30))
    return root, sub1, sub2


def _leaf(sub2, pcid="WMA00000000000001"):
    return issue("oem_prov_leaf", pcid, sub2, ocsp_url="http://x/ocsp",
                 not_before=NOW - dt.timedelta(hours=1), not_after=NOW + dt.timedelta(days=20))


def _trust(store, root):
    rcp.save_root(store, {"caCertificate": base64.b64encode(root.der).decode(),
                          "rootType": "OEM"}, Faults())


def _body(sub1, sub2, leaf) -> dict:
    return {k: base64.b64encode(v.der).decode() for k, v in
            (("subCA1Certificate", sub1), ("subCA2Certificate", sub2), ("vehicleCertificate", leaf))}


def _add(store, who, body, checker=None, faults=()):
    return asyncio.run(pcp.add(store, who, body, Faults(faults), checker or FakeChecker()))


def test_a_good_chain_is_published_with_the_spec_fields(store):
    root, sub1, sub2 = _chain()
    _trust(store, root)
    out = _add(store, OEM, _body(sub1, sub2, _leaf(sub2)))
    assert out["rootIssuerSerialNumber"] == format(root.cert.serial_number, "x")
    assert "CN=Test OEM Root" in out["rootIssuerDistinguishedName"]
    assert out["xsdMsgDefNamespace"] == "urn:iso:15118:2:2013:MsgDef"
    assert ":" in out["rootAuthorityKeyIdentifier"]
    got = asyncio.run(pcp.get(store, MO, "WMA00000000000001", Faults(), FakeChecker()))
    assert got == out


def test_the_control_steps_fail_in_the_spec_order(store):
    root, sub1, sub2 = _chain(expired_sub1=True)  # root not in the RCP, sub1 expired
    leaf = _leaf(sub2, "ZZZ00000000000001")
    revoked = FakeChecker({leaf.cert.serial_number})
    # Step 1 (WMI) before everything else.
    with pytest.raises(Forbidden):
        _add(store, OEM, _body(sub1, sub2, leaf), revoked)
    # Step 2 (validity) before OCSP and trust.
    leaf = _leaf(sub2)
    revoked = FakeChecker({leaf.cert.serial_number})
    with pytest.raises(BadRequest, match="subCA1Certificate: expired"):
        _add(store, OEM, _body(sub1, sub2, leaf), revoked)
    assert revoked.asked == []
    # Step 3 (OCSP) before trust.
    root, sub1, sub2 = _chain()
    leaf = _leaf(sub2)
    with pytest.raises(BadRequest, match="vehicleCertificate: is revoked"):
        _add(store, OEM, _body(sub1, sub2, leaf), FakeChecker({leaf.cert.serial_number}))
    # Step 4 (trust): the root is not in the RCP.
    with pytest.raises(BadRequest, match="Root Certificate Pool"):
        _add(store, OEM, _body(sub1, sub2, leaf))
    assert store.query("SELECT * FROM prov_certs") == []


def test_faults_skip_their_step(store):
    root, sub1, sub2 = _chain()
    leaf = _leaf(sub2)
    _add(store, OEM, _body(sub1, sub2, leaf), faults=["pcp-untrusted-root-accepted"])
    _add(store, OEM, _body(sub1, sub2, _leaf(sub2, "WMB00000000000002")),
         FakeChecker({1}), faults=["pcp-untrusted-root-accepted", "pcp-skip-ocsp"])
    assert len(store.query("SELECT * FROM prov_certs")) == 2


def test_bad_input_names_the_field(store):
    with pytest.raises(BadRequest, match="vehicleCertificate: is required"):
        _add(store, OEM, {"subCA1Certificate": "AAAA"})
    good = base64.b64encode(_chain()[0].der).decode()
    with pytest.raises(BadRequest, match="subCA1Certificate: is not valid base64"):
        _add(store, OEM, {"subCA1Certificate": "**", "vehicleCertificate": good})
    with pytest.raises(BadRequest, match="vehicleCertificate: is not a DER"):
        _add(store, OEM, {"subCA1Certificate": "AAAA", "vehicleCertificate": "AAAA"})
    with pytest.raises(BadRequest, match=r"\^\[a-zA-Z0-9\]\{17,18\}\$"):
        asyncio.run(pcp.get(store, MO, "short", Faults(), FakeChecker()))


def test_a_new_key_pair_deletes_contracts_and_raises_the_event(store, monkeypatch):
    calls = []
    monkeypatch.setattr(pcp.ccp, "cascade",
                        lambda db, p, causes, faults: calls.append((p, causes)) or [])
    root, sub1, sub2 = _chain()
    _trust(store, root)
    leaf = _leaf(sub2)
    _add(store, OEM, _body(sub1, sub2, leaf))
    _add(store, OEM, _body(sub1, sub2, leaf))  # same key: a plain overwrite
    assert calls == []
    _add(store, OEM, _body(sub1, sub2, _leaf(sub2)))  # same PCID, new key
    assert calls == [("WMA00000000000001",
                      ("mo.prov.cert.updated", "mo.prov.cert.updated.factory.reset"))]
    pcp.delete(store, OEM, "WMA00000000000001", Faults())
    assert calls[-1] == ("WMA00000000000001",
                         ("mo.prov.cert.deleted", "mo.prov.cert.factory.reset"))
    with pytest.raises(NotFound):
        pcp.lookup(store, MO, "WMA00000000000001", Faults())


def test_delivery_rechecks_the_status(store):
    root, sub1, sub2 = _chain()
    _trust(store, root)
    leaf = _leaf(sub2)
    _add(store, OEM, _body(sub1, sub2, leaf))
    with pytest.raises(NotFound, match="revoked"):
        asyncio.run(pcp.get(store, MO, "WMA00000000000001", Faults(),
                            FakeChecker({leaf.cert.serial_number})))


def test_ca_keys_are_sealed_and_the_responder_answers_for_them(store):
    rows = store.query("SELECT name, key_sealed FROM ca")
    assert rows and all(bytes(r["key_sealed"]).startswith(MAGIC) for r in rows)
    sub1 = pki.ca(store, "v2g1.cpo.sub1").cert
    root = pki.ca(store, "v2g1.root").cert
    answer = pki.answer_ocsp(store, build_request(sub1, root))
    assert verify_response(answer, sub1, root).name == "good"
    done = pki.revoke(store, {"issuerFingerprint": _fp(root),
                              "serialNumber": format(sub1.serial_number, "x"),
                              "reason": "keyCompromise"})
    assert done["issuer"] == "v2g1.root"
    answer = pki.answer_ocsp(store, build_request(sub1, root))
    assert verify_response(answer, sub1, root).name == "revoked"
    with pytest.raises(Conflict):
        pki.revoke(store, {"issuerFingerprint": _fp(root),
                           "serialNumber": format(sub1.serial_number, "x")})


def _fp(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


@pytest.mark.parametrize("body, field", [
    ({"serialNumber": "01"}, "issuerKeyHash, issuerFingerprint"),
    ({"issuerKeyHash": "zz", "serialNumber": "01"}, "issuerKeyHash"),
    ({"issuerFingerprint": "00" * 32, "serialNumber": "xyz"}, "serialNumber"),
    ({"issuerFingerprint": "00" * 32, "serialNumber": "01", "reason": "bored"}, "reason"),
])
def test_revocation_requests_are_validated(store, body, field):
    with pytest.raises(BadRequest, match=field):
        pki.revoke(store, body)


def test_revoking_under_a_foreign_issuer_is_not_found(store):
    with pytest.raises(NotFound):
        pki.revoke(store, {"issuerFingerprint": "00" * 32, "serialNumber": "01"})


def test_the_own_ocsp_url_is_answered_in_process(store):
    checker = pki.StatusChecker(store)
    leaf_row = store.query_one("SELECT der, issuer_name FROM issued_certs LIMIT 1")
    leaf = x509.load_der_x509_certificate(bytes(leaf_row["der"]))
    issuer = pki.ca(store, leaf_row["issuer_name"]).cert
    # The baked URL (127.0.0.1:8080) is not listening here: an answer proves in-process.
    assert asyncio.run(checker.status(leaf, issuer)).name == "good"


class BrokenChecker:
    async def status(self, cert, issuer):
        raise pcp.OcspError("http", "http.transport", "responder down")


def test_cleansing_deletes_revoked_and_expired_only(store, monkeypatch):
    calls = []
    monkeypatch.setattr(pcp.ccp, "cascade",
                        lambda db, p, causes, faults: calls.append(causes) or [])
    root, sub1, sub2 = _chain()
    _trust(store, root)
    kept, revoked = _leaf(sub2, "WMA00000000000011"), _leaf(sub2, "WMA00000000000012")
    for leaf in (kept, revoked):
        _add(store, OEM, _body(sub1, sub2, leaf))
    assert asyncio.run(pcp.cleanse(store, BrokenChecker())) == []  # unknown: keep
    done = asyncio.run(pcp.cleanse(store, FakeChecker({revoked.cert.serial_number})))
    assert [p for p, _ in done] == ["WMA00000000000012"] and "revoked" in done[0][1]
    later = NOW + dt.timedelta(days=25)  # after the leaves' notAfter
    done = asyncio.run(pcp.cleanse(store, FakeChecker(), later))
    assert [p for p, _ in done] == ["WMA00000000000011"] and "expired" in done[0][1]
    # Cleansing is not the OEM's doing: deleted, without factory.reset.
    assert calls == [("mo.prov.cert.deleted",), ("mo.prov.cert.deleted",)]
    assert store.query("SELECT * FROM prov_certs") == []


def test_the_cleanse_command_runs_on_a_data_dir(tmp_path, capsys):
    from opcp_cli import main
    from opcp_reference.server import open_reference

    open_reference(tmp_path).store.close()
    assert main(["pcp", "cleanse", "--data-dir", str(tmp_path)]) == 0
    assert "0 provisioning certificate(s) deleted" in capsys.readouterr().out
