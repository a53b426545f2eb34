"""The simulated mobility operators.

`MoOwnPki` issues contract certificates from its own MO PKI: it looks the vehicle up, fetches
and validates the provisioning chain against the RCP's roots, issues the contract
certificate, generates the contract key, encrypts it to the vehicle, and asks the CPS to sign
(`contractData/signed` with the PCID, so the CCP stores it). `MoV2gPki` has no PKI and asks the
CPS to generate everything. Both delete contracts, and mark a contract void when the event
service says the vehicle's provisioning certificate was deleted, reset or replaced: `subscribe`
creates the MO's webhook endpoint on a `webhook_receiver.Receiver`, which verifies each
delivery's signature before the MO sees it.

A vehicle whose provisioning certificate is of ISO 15118-20 (secp521r1) gets -20 contract
data: the MO's own -20 PKI issues a secp521r1 contract certificate, its key is encrypted per
ISO 15118-20 (`v2g.contract_data20.encrypt_for_vehicle20`, the AAD binding it to the PCID),
and the CPS is asked to sign with the -20 namespace; the chain is validated as a -20 chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from opcp.client import Exchange, OpcpClient
from opcp.models.errata import read_field
from simulators.actor_calls import ISO2, ActorError, b64, expect, parsed, subscribe, trusted_roots, unb64, unsubscribe
from simulators.webhook_receiver import Receiver
from v2g.contract_data import encrypt_for_vehicle
from v2g.contract_data20 import encrypt_for_vehicle20
from v2g.namespaces import ISO20_CANONICAL, iso_part_of_key
from v2g.pki.builder import Issued, issue, new_key
from v2g.pki.profiles import Role
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain

# Each says the CCP no longer holds the PCID's contracts (docs/components/06): the vehicle's
# certificate was deleted, the OEM reset the vehicle, or its key pair changed.
VOIDING_EVENTS = ("mo.prov.cert.deleted", "mo.prov.cert.factory.reset", "mo.prov.cert.updated",
                  "mo.prov.cert.updated.factory.reset")


@dataclass
class Contract:
    emaid: str
    pcid: str
    void: bool = False
    answer: dict = field(default_factory=dict)
    voided_by: str | None = None  # the event type that voided it


class VehicleRefused(Exception):
    """The vehicle's provisioning chain does not validate; the MO issues no contract."""


@dataclass
class _Mo:
    client: OpcpClient
    party: int = 0
    contracts: dict[tuple[str, str], Contract] = field(default_factory=dict)
    role: str = "MO"

    def lookup_vehicle(self, pcid: str) -> bool:
        got = self.client.op("lookupVehicle", {"pcid": pcid}, role=self.role, party=self.party)
        return expect(got, f"look up {pcid}", 200, 404).status == 200

    def delete_contract(self, emaid: str) -> None:
        expect(self.client.op("deleteSignedContractData", {"emaid": emaid}, role=self.role,
                              party=self.party), f"delete {emaid}", 200, 204)
        for key in [k for k in self.contracts if k[0] == emaid]:
            del self.contracts[key]

    def on_event(self, event: dict) -> None:
        """A webhook delivery: contracts of a vehicle whose provisioning key went away are void.
        The event names the EMAID it was routed by; without one, the whole PCID is meant."""
        kind = event.get("eventType")
        if kind not in VOIDING_EVENTS:
            return
        payload = event.get("payload") or {}
        pcid, emaid = payload.get("pcid"), _plain(payload.get("emaid"))
        for contract in self.contracts.values():
            if contract.pcid == pcid and emaid in (None, _plain(contract.emaid)):
                contract.void, contract.voided_by = True, kind

    def subscribe(self, receiver: Receiver, hook: str, url: str,
                  events: tuple[str, ...] = VOIDING_EVENTS) -> str:
        """Create the MO's webhook endpoint at `url` (served by `receiver` as `hook`) and act
        on what arrives there; returns the endpoint id."""
        return subscribe(self.client, self.role, self.party, receiver, hook, url, events,
                         self.on_event, "simulated MO: contract voiding")

    def unsubscribe(self, endpoint_id: str) -> None:
        unsubscribe(self.client, self.role, self.party, endpoint_id)


@dataclass
class MoOwnPki(_Mo):
    sub2: Issued | None = None  # the MO Sub-CA 2 that signs contract certificates (with key)
    sub1: Issued | None = None

    def provisioning_chain(self, pcid: str) -> list[bytes]:
        got = expect(self.client.op("getOEMProvCert", {"pcid": pcid}, role=self.role,
                                    party=self.party), f"provisioning certificate {pcid}")

        def chain_of(body: dict) -> list[bytes]:
            data = body["OEMMessage"]
            # A pool using the names pcp.v1.json announces (E-PCP-2) is read as well.
            found = {f: read_field("ProvisioningCertificateData", data, f) for f in
                     ("vehicleCertificate", "subCA2Certificate", "subCA1Certificate")}
            if found["vehicleCertificate"] is None or found["subCA1Certificate"] is None:
                raise KeyError("vehicleCertificate and subCA1Certificate")
            return [unb64(v) for v in found.values() if v]

        return parsed(got, f"provisioning certificate {pcid}", chain_of)

    def validate_vehicle(self, chain: list[bytes], at: dt.datetime | None = None) -> None:
        anchors = [TrustAnchor.of(r, Role.OEM) for r in trusted_roots(self.client, self.role,
                                                                      self.party, "oem")]
        anchors += [TrustAnchor.of(r, Role.V2G) for r in trusted_roots(self.client, self.role,
                                                                       self.party, "v2g")]
        iso = iso_part_of_key(x509.load_der_x509_certificate(chain[0])) or "2"
        try:
            validate_chain(chain, TrustStore(anchors), purpose=Purpose.PROVISIONING, at=at, iso=iso)
        except ChainError as exc:
            raise VehicleRefused(str(exc)) from None

    def issue_contract(self, pcid: str, emaid: str) -> Contract:
        """The whole contract conclusion: look up, fetch and validate, then sign."""
        if not self.lookup_vehicle(pcid):
            raise VehicleRefused(f"{pcid} is not in the provisioning certificate pool")
        chain = self.provisioning_chain(pcid)
        self.validate_vehicle(chain)
        return self.sign_contract(pcid, emaid, chain[0])

    def sign_contract(self, pcid: str, emaid: str, provisioning_cert: bytes) -> Contract:
        """Issue the contract certificate, encrypt its key to the (validated) provisioning
        certificate, and have the CPS sign it into the CCP."""
        got = self.sign_exchange(self.sign_body(emaid, provisioning_cert, pcid))
        contract = Contract(emaid, pcid, answer=expect(got, f"sign {emaid}", 200, 201).json())
        self.contracts[(emaid, pcid)] = contract
        return contract

    def contract_data(self, emaid: str, provisioning_cert: bytes) -> dict:
        """ContractData for `emaid`: a fresh contract certificate from the MO's Sub-CA 2, its
        key encrypted to the vehicle's provisioning certificate."""
        if self.sub2 is None or self.sub1 is None:
            raise ValueError("an MO with its own PKI needs sub2 and sub1")
        vehicle = x509.load_der_x509_certificate(provisioning_cert)
        if iso_part_of_key(vehicle) == "20":
            return self._contract_data20(emaid, vehicle)
        key = new_key()
        leaf = issue("contract_leaf", emaid, self.sub2, key=key)
        data = encrypt_for_vehicle(key, provisioning_cert, emaid, [leaf.der, self.sub2.der, self.sub1.der])
        return {"contractCertificate": b64(leaf.der), "contractSubCa2Certificate": b64(self.sub2.der),
                "contractSubCa1Certificate": b64(self.sub1.der),
                "contractSignatureEncryptedPrivateKey": b64(data.encrypted_private_key),
                "dHpublickey": b64(data.dh_public_key)}

    def _contract_data20(self, emaid: str, vehicle: x509.Certificate) -> dict:
        assert self.sub2 is not None and self.sub1 is not None
        key = ec.generate_private_key(ec.SECP521R1())
        leaf = issue("contract_leaf_20", emaid, self.sub2, key=key)
        cn = vehicle.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        pcid = str(cn[0].value) if cn else ""
        data = encrypt_for_vehicle20(key, vehicle.public_bytes(_DER), pcid,
                                     [leaf.der, self.sub2.der, self.sub1.der])
        return {"contractCertificate": b64(leaf.der), "contractSubCa2Certificate": b64(self.sub2.der),
                "contractSubCa1Certificate": b64(self.sub1.der),
                "contractSignatureEncryptedPrivateKey": b64(data.key.encrypted_private_key),
                "dHpublickey": b64(data.key.dh_public_key)}

    def sign_body(self, emaid: str, provisioning_cert: bytes, pcid: str | None) -> dict:
        """The signContractData request; without `pcid` the CPS signs but the CCP stores nothing."""
        iso20 = iso_part_of_key(x509.load_der_x509_certificate(provisioning_cert)) == "20"
        body: dict = {"contractData": self.contract_data(emaid, provisioning_cert),
                      "xsdMsgDefNamespace": ISO20_CANONICAL if iso20 else ISO2}
        if pcid is not None:
            body["pcid"] = pcid
        return body

    def sign_exchange(self, body: dict, operation: str = "signContractData") -> Exchange:
        """One signing call with `body` as it is (or a deprecated one by its `operation` name:
        createSignedContractData, createAndForwardSignedContractData), answered as it was."""
        return self.client.op(operation, role=self.role, party=self.party, json=body)


@dataclass
class MoV2gPki(_Mo):
    role: str = "MO_V2G"

    def generate_contract(self, pcid: str, emaid: str, begins: dt.datetime | None = None,
                          ends: dt.datetime | None = None) -> Contract:
        got = self.generate_exchange(self.generate_body(pcid, emaid, begins, ends))
        if got.status not in (200, 201):
            raise ActorError(f"generate {emaid}", got)
        contract = Contract(emaid, pcid, answer=got.json() if got.response_body else {})
        self.contracts[(emaid, pcid)] = contract
        return contract

    @staticmethod
    def generate_body(pcid: str, emaid: str, begins: dt.datetime | None = None,
                      ends: dt.datetime | None = None, namespace: str = ISO2) -> dict:
        """The generateSignedContractData request (default: valid from now for a year; an
        ISO 15118-20 `namespace` asks for -20 contract data)."""
        begins = begins or dt.datetime.now(dt.UTC)
        ends = ends or begins + dt.timedelta(days=365)
        return {"emaid": emaid, "pcid": pcid, "xsdMsgDefNamespace": namespace,
                "contractBegins": begins.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "contractEnds": ends.isoformat(timespec="seconds").replace("+00:00", "Z")}

    def generate_exchange(self, body: dict) -> Exchange:
        """One generateSignedContractData call with `body`, answered as it was."""
        return self.client.op("generateSignedContractData", role=self.role, party=self.party,
                              json=body)


_DER = serialization.Encoding.DER


def _plain(emaid: object) -> str | None:
    return emaid.replace("-", "").upper() if isinstance(emaid, str) else None
