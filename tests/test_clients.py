"""Deployed CSMS clients against the reference: their recorded request shapes replayed.

`tests/data/clients/*.json` hold what CitrineOS and MaEVe send (method, path, headers, body
form; written here from reading their code). Against a default reference each client gets a
token, the roots, EST certificates (cacerts and simpleenroll with a real CSR) and a contract a
vehicle installs, reading each answer as that client does. Against a strict one
(`opcp serve --strict`), every request with a habit is refused naming its compatibility rule,
and the cacerts container keeps DER's order, which a client reading by position misreads.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from features.support.client_habits import listed_certificates
from opcp.client import OpcpClient
from opcp.rules import COMPATIBILITY, RULES
from opcp.target import load
from opcp_reference import audit
from opcp_reference.server import EmbeddedReference
from simulators.mo import MoOwnPki
from simulators.oem import Oem
from simulators.party_pki import OemPki, SuiteOcspResponder
from v2g.pki.bundle import order_chain
from v2g.pki.validate import verify_signed_by

DATA = Path(__file__).parent / "data" / "clients"
CLIENTS = sorted(p.stem for p in DATA.glob("*.json"))


def shapes(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def default_ref(tmp_path_factory):
    with EmbeddedReference(tmp_path_factory.mktemp("clients-default")) as ref:
        yield ref


@pytest.fixture(scope="module")
def strict_ref(tmp_path_factory):
    with EmbeddedReference(tmp_path_factory.mktemp("clients-strict"), strict=True) as ref:
        yield ref


@pytest.fixture(scope="module")
def vehicle_request(default_ref):
    """A vehicle with a contract in the reference's CCP, made by the simulated OEM and MO over
    HTTP; yields the vehicle and its signed CertificateInstallationReq (EXI)."""
    target = load(default_ref.ref.data_dir / "target.toml")
    client = OpcpClient(target)
    responder = SuiteOcspResponder().start()
    try:
        oem_pki = OemPki.build(responder, "Replay OEM")
        mo_pki = OemPki.build(responder, "Replay MO", role="mo")
        for pki, root_type in ((oem_pki, "OEM"), (mo_pki, "MO")):
            got = client.call("PUT", "rcp", "/v1/root/rootCerts", role="ADMIN", json={
                "caCertificate": base64.b64encode(pki.root.der).decode(), "rootType": root_type})
            assert got.status == 200, got.response_body
        oem = Oem(client, wmi=target.client("OEM").wmis[0], source=oem_pki)
        vehicle = oem.produce_vehicle()
        oem.publish(vehicle)
        prefix = target.client("MO").emaid_prefixes[0].upper()
        MoOwnPki(client, sub2=mo_pki.sub2, sub1=mo_pki.sub1).issue_contract(
            vehicle.pcid, prefix + uuid.uuid4().hex[:9].upper())
        yield vehicle, vehicle.installation_req()
    finally:
        responder.stop()
        client.close()


def _csr() -> tuple[str, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cn = f"DE*RPL*E{uuid.uuid4().hex.upper()[:10]}"
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode(), key


class Replay:
    """Sends one client's recorded requests to a reference, filling in the placeholders."""

    def __init__(self, reference: EmbeddedReference, client_shapes: dict):
        self.base = reference.base_url
        self.shapes = client_shapes
        clients = json.loads((reference.ref.data_dir / "clients.json").read_text())
        mine = next(c for c in clients if c["role"] == client_shapes["role"])
        self.values = {"base_url": self.base, "client_id": mine["client_id"],
                       "client_secret": mine["client_secret"], "token": "", "csr": "",
                       "exi_request": ""}

    def request(self, step: str) -> dict:
        return next(r for r in self.shapes["requests"] if r["step"] == step)

    def send(self, step: str, **values: str) -> httpx.Response:
        shape = self.request(step)
        filled = {**self.values, **values}
        headers = {k: v.format(**filled) for k, v in shape["headers"].items()}
        fields = {k: v.format(**filled) for k, v in shape.get("fields", {}).items()}
        kwargs: dict = {"headers": headers}
        if shape["body_form"] == "form":
            kwargs["content"] = str(httpx.QueryParams(fields)).encode()
        elif shape["body_form"] == "json":
            kwargs["content"] = json.dumps(fields).encode()
        elif shape["body_form"] == "csr-base64":
            kwargs["content"] = filled["csr"].encode()
        else:
            assert shape["body_form"] == "none", shape["body_form"]
        return httpx.request(shape["method"], self.base + shape["path"], timeout=30, **kwargs)

    def spec_token(self, audience: str) -> str:
        """A token bought the spec's way, for replaying the later steps against a strict
        reference."""
        got = httpx.post(self.base + "/oauth/token", json={
            "grant_type": "client_credentials", "client_id": self.values["client_id"],
            "client_secret": self.values["client_secret"], "audience": audience})
        assert got.status_code == 200, got.text
        return got.json()["access_token"]


def test_the_recorded_shapes_are_well_formed():
    for name in CLIENTS:
        data = shapes(name)
        assert isinstance(data["cacerts_by_position"], bool), name
        assert {r["step"] for r in data["requests"]} == {
            "token", "roots", "cacerts", "simpleenroll", "contract"}, name
        for shape in data["requests"]:
            assert shape["body_form"] in ("form", "json", "csr-base64", "none"), shape
            for rule in shape["habits"]:
                assert RULES[rule].axis == COMPATIBILITY, (name, rule)


@pytest.mark.parametrize("name", CLIENTS)
def test_a_default_reference_serves_the_client_end_to_end(name, default_ref, vehicle_request):
    replay = Replay(default_ref, shapes(name))
    got = replay.send("token")
    assert got.status_code == 200, got.text
    token = got.json()["access_token"]

    got = replay.send("roots", token=token)
    assert got.status_code == 200, got.text
    roots = got.json()["RootCertificateCollection"]["rootCertificates"]
    anchors = {base64.b64decode(r["caCertificate"]) for r in roots}
    assert anchors

    got = replay.send("cacerts", token=token)
    assert got.status_code == 200, got.text
    listed = listed_certificates(got.content)
    if replay.shapes["cacerts_by_position"]:
        # CitrineOS: the last is the V2G root, each is issued by the next.
        assert listed[-1].public_bytes(serialization.Encoding.DER) in anchors
        assert all(verify_signed_by(c, n.public_key()) for c, n in zip(listed, listed[1:]))

    csr, key = _csr()
    got = replay.send("simpleenroll", token=token, csr=csr)
    assert got.status_code == 200, got.text
    (leaf,) = listed_certificates(got.content)
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    # Both put the leaf in front of the CA certificates; MaEVe orders them by issuer links.
    chain = order_chain([leaf, *listed])
    assert chain[0] == leaf and chain[-1].public_bytes(serialization.Encoding.DER) in anchors
    assert all(verify_signed_by(c, n.public_key()) for c, n in zip(chain, chain[1:]))

    vehicle, exi_request = vehicle_request
    got = replay.send("contract", token=token,
                      exi_request=base64.b64encode(exi_request).decode())
    assert got.status_code == 200, got.text
    first = got.json()["CCPResponse"]["emaidContent"][0]["messageDef"]
    assert first.get("emaid"), "MaEVe refuses a messageDef without emaid"
    installed = vehicle.accept(base64.b64decode(first["certificateInstallationRes"]))
    assert installed.emaid == first["emaid"]


@pytest.mark.parametrize("name", CLIENTS)
def test_each_habit_is_recorded_as_a_finding(name, default_ref):
    replay = Replay(default_ref, shapes(name))
    token = replay.spec_token(default_ref.ref.auth.audience)
    csr, _ = _csr()
    seen_before = len(audit.read(default_ref.ref.store))
    expected = []
    for shape in replay.shapes["requests"]:
        habits = [h for h in shape["habits"] if h != "EST-CHAIN-ORDER"]  # served to everyone
        if shape["step"] == "contract" or not habits:
            continue
        assert replay.send(shape["step"], token=token, csr=csr).status_code == 200
        expected += [f"compatibility:{h}" for h in habits]
    rows = audit.read(default_ref.ref.store)[seen_before:]
    findings = [r["operation"] for r in rows if r["operation"].startswith("compatibility:")]
    assert findings == expected
    assert all(r["client_id"] == replay.values["client_id"] for r in rows
               if r["operation"].startswith("compatibility:"))


@pytest.mark.parametrize("name", CLIENTS)
def test_a_strict_reference_refuses_each_habit_naming_its_rule(name, strict_ref):
    replay = Replay(strict_ref, shapes(name))
    token = replay.spec_token(strict_ref.ref.auth.audience)
    csr, _ = _csr()
    refused = 0
    for shape in replay.shapes["requests"]:
        habits = [h for h in shape["habits"] if h != "EST-CHAIN-ORDER"]
        got = replay.send(shape["step"], token=token, csr=csr)
        if not habits:
            if shape["step"] != "contract":  # no contract is pooled in the strict reference
                assert got.status_code == 200, (shape["step"], got.text)
            continue
        assert got.status_code in (400, 404), (shape["step"], got.status_code, got.text)
        body = got.json()
        assert body["errorMessages"] and body["traceId"]
        # The first habit met is the one refused; it names the rule and the spec rule it bends.
        assert any(f"compatibility rule {h}" in body["errorMessages"][0] for h in habits), body
        assert "strict" in body["errorMessages"][0]
        refused += 1
    assert refused == sum(1 for s in replay.shapes["requests"]
                          if set(s["habits"]) - {"EST-CHAIN-ORDER"})


def test_strict_cacerts_keep_der_order_which_a_positional_reader_misreads(strict_ref):
    replay = Replay(strict_ref, shapes("citrineos"))
    token = replay.spec_token(strict_ref.ref.auth.audience)
    got = httpx.get(strict_ref.base_url + "/.well-known/est/cpo/cacerts/ISO15118-2/secp256r1",
                    headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200, got.text
    listed = listed_certificates(got.content)
    ders = [c.public_bytes(serialization.Encoding.DER) for c in listed]
    assert ders == sorted(ders), "strict: the SET OF is in DER order"
    last = listed[-1]
    assert not (last.issuer == last.subject and all(
        c.issuer == n.subject for c, n in zip(listed, listed[1:]))), (
        "this PKI's DER order happens to be leaf first: the test proves nothing")


def test_audience_urls_are_compared_without_case_of_host_or_trailing_slash(default_ref):
    replay = Replay(default_ref, shapes("citrineos"))
    loud = "HTTP://" + default_ref.base_url.removeprefix("http://")
    for audience in (default_ref.base_url + "/", loud, "https://opcp-reference.local.evil"):
        got = httpx.post(default_ref.base_url + "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": replay.values["client_id"],
            "client_secret": replay.values["client_secret"], "audience": audience})
        wanted = 400 if audience.endswith(".evil") else 200
        assert got.status_code == wanted, (audience, got.text)
