"""The simulated OEM backend: produces vehicles, publishes their provisioning certificates to
the PCP, pulls their contracts from the CCP, sets the default one, and factory-resets them.
`subscribe` runs the OEM's webhook endpoint: a new or updated contract (oem.contract.created,
.updated) is pulled at once and kept for the vehicle's over-the-air installation; a deleted
one is dropped (`installable`).

Provisioning certificates come from a `simulators.provisioning` source: the OEM's own Sub-CA
(give `sub2` and `sub1`, or an `OemPki`), or EST at the ecosystem's V2G PKI
(`source=EstEnrollment(client)`).

ISO 15118-20 vehicles (`produce_vehicle20`) get a secp521r1 or Ed448 provisioning key from a
source of the -20 profiles (an `OemPki` built with that algorithm, or EST `ISO15118-20`), an
18-character PCID (the -20 key encryption's AAD needs 18, docs/iso20.md ISO20-PKI-3) and the
RCP's -20 V2G roots; an Ed448 vehicle's certificate carries its X448 ECDHE key
([V2G20-2534]). Their certificates are published with the -20 namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.x509 import load_der_x509_certificate
from faker import Faker

from opcp.client import Exchange, OpcpClient
from opcp.id_faker import PnCIdProvider
from simulators.actor_calls import ISO2, b64, expect, parsed, subscribe, trusted_roots, unb64, unsubscribe
from simulators.ev import Vehicle, Vehicle20
from simulators.provisioning import EnrollmentRefused, IssuingCa, ProvisioningSource, certs_only
from simulators.webhook_receiver import Receiver
from v2g.namespaces import ISO20_CANONICAL, iso_part_of_key
from v2g.pki.builder import Issued, new_key

CONTRACT_EVENTS = ("oem.contract.created", "oem.contract.updated", "oem.contract.deleted")


@dataclass
class Oem:
    client: OpcpClient
    sub2: Issued | None = None  # the OEM Sub-CA 2 that signs provisioning certificates (with its key)
    sub1: Issued | None = None
    wmi: str = ""  # default: the first WMI the target file gives the OEM client
    party: int = 0
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    role: str = "OEM"
    # The OEM's OCSP responder: the pool asks it about every certificate it is given.
    ocsp_url: str | None = None
    source: ProvisioningSource | None = None  # default: IssuingCa(sub2, sub1, ocsp_url)
    chains: dict[str, list[bytes]] = field(default_factory=dict)  # PCID -> leaf, sub-CAs
    # (PCID, EMAID) -> the CertificateInstallationRes (EXI) pulled after an oem.contract.* event
    installable: dict[tuple[str, str], bytes] = field(default_factory=dict)
    vehicles20: dict[str, Vehicle20] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._faker = Faker()
        self._faker.add_provider(PnCIdProvider)
        if self.source is None:
            if self.sub2 is None or self.sub1 is None:
                raise ValueError("an OEM needs sub2 and sub1 of its own PKI, or a source")
            self.source = IssuingCa(self.sub2, self.sub1, self.ocsp_url)
        if not self.wmi:
            client = self.client.target.client(self.role, self.party)
            if client is None or not client.wmis:
                raise ValueError(f"no WMI given, and the target names none for {self.role}")
            self.wmi = client.wmis[0].upper()

    def produce_vehicle(self, pcid: str | None = None) -> Vehicle:
        """A vehicle with a fresh provisioning key and certificate, trusting the RCP's V2G roots."""
        pcid = pcid or self._faker.pcid(wmi=self.wmi, check_digit=False)
        key = new_key()
        chain = self.certify(pcid, key)
        roots = trusted_roots(self.client, self.role, self.party, "v2g")
        vehicle = Vehicle(pcid, chain[0], key, roots)
        self.vehicles[pcid] = vehicle
        return vehicle

    def produce_vehicle20(self, pcid: str | None = None, algorithm: str = "secp521r1",
                          **vehicle: object) -> Vehicle20:
        """An ISO 15118-20 vehicle: a provisioning key and certificate of `algorithm` (the
        source must issue -20 profiles of it), trusting the RCP's -20 V2G roots; `vehicle` sets
        Vehicle20's maximum_chains or prioritized_emaids. On ed448 the vehicle also makes the
        X448 key its certificate carries for ECDHE ([V2G20-2534]), which the source certifies
        with it (an `OemPki` of ed448, or EST, where the CSR asks for it)."""
        if algorithm not in ("secp521r1", "ed448"):
            raise ValueError(f"algorithm: an ISO 15118-20 vehicle is secp521r1 or ed448, not"
                             f" {algorithm!r}")
        pcid = pcid or self._faker.pcid(wmi=self.wmi, check_digit=True)
        ecdhe: x448.X448PrivateKey | None = None
        key: ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey
        if algorithm == "ed448":
            key, ecdhe = ed448.Ed448PrivateKey.generate(), x448.X448PrivateKey.generate()
        else:
            key = ec.generate_private_key(ec.SECP521R1())
        chain = self.certify(pcid, key, ecdhe)
        roots = [r for r in trusted_roots(self.client, self.role, self.party, "v2g")
                 if iso_part_of_key(load_der_x509_certificate(r)) == "20"]
        made = Vehicle20(pcid, chain, key, roots, ecdhe_key=ecdhe, **vehicle)  # type: ignore[arg-type]
        self.vehicles20[pcid] = made
        return made

    def certify(self, pcid: str, key: ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey | None = None,
                alt_key: x448.X448PrivateKey | None = None) -> list[bytes]:
        """A provisioning certificate for `pcid` (of `key`, or a fresh one) from the OEM's source,
        with its sub-CAs; the chain is what `provisioning_body` publishes for the PCID.
        `alt_key`: the X448 key an Ed448 certificate carries ([V2G20-2534])."""
        assert self.source is not None
        if alt_key is None:
            chain = self.source.certify(pcid, key or new_key())
        else:
            chain = self.source.certify(pcid, key or new_key(), alt_key)
        self.chains[pcid] = chain
        return chain

    def provisioning_body(self, pcid: str) -> dict:
        """The addOemProvCert request for a PCID the OEM certified (or a vehicle made under its
        own Sub-CA elsewhere, whose certificate it was given)."""
        chain = self.chains.get(pcid)
        if chain is None:
            vehicle = self.vehicles.get(pcid)
            if vehicle is None or self.sub2 is None or self.sub1 is None:
                raise KeyError(f"the OEM has no provisioning certificate for {pcid}")
            chain = [vehicle.provisioning_cert, self.sub2.der, self.sub1.der]
        iso20 = iso_part_of_key(load_der_x509_certificate(chain[0])) == "20"
        body = {"vehicleCertificate": b64(chain[0]), "subCA1Certificate": b64(chain[-1]),
                "xsdMsgDefNamespace": ISO20_CANONICAL if iso20 else ISO2}
        if len(chain) == 3:
            body["subCA2Certificate"] = b64(chain[1])
        return body

    def publish(self, vehicle: Vehicle | Vehicle20) -> dict:
        if isinstance(vehicle, Vehicle):
            self.vehicles.setdefault(vehicle.pcid, vehicle)
        got = self.put_provisioning(self.provisioning_body(vehicle.pcid))
        return expect(got, f"publish {vehicle.pcid}").json()

    def put_provisioning(self, body: dict) -> Exchange:
        """One addOemProvCert call with `body` as it is, answered as it was."""
        return self.client.op("addOemProvCert", role=self.role, party=self.party, json=body)

    def withdraw(self, pcid: str) -> Exchange:
        """One deleteOemProvCert call, answered as it was."""
        return self.client.op("deleteOemProvCert", {"pcid": pcid}, role=self.role, party=self.party)

    def contracts(self, pcid: str) -> list[dict]:
        """getContracts: the vehicle's contracts (XMLContracts: emaid, defaultContract, ...)."""
        got = self.client.op("getContracts", {"pcid": pcid}, role=self.role, party=self.party)
        if got.status == 404:
            return []
        return parsed(expect(got, f"contracts of {pcid}"), f"contracts of {pcid}",
                      lambda body: [dict(c, emaid=str(c["emaid"])) for c in body["XMLContracts"]])

    def default_contract(self, pcid: str) -> str | None:
        """The EMAID the CCP marks as the vehicle's default, if any."""
        defaults = [c["emaid"] for c in self.contracts(pcid) if c.get("defaultContract")]
        return defaults[0] if len(defaults) == 1 else None

    def provide(self, emaid: str, pcid: str) -> bytes:
        """The signed CertificateInstallationRes for one contract, as EXI."""
        got = expect(self.client.op("provideSignedContractData", {"emaid": emaid, "pcid": pcid},
                                    role=self.role, party=self.party), f"contract {emaid}")
        return parsed(got, f"contract {emaid}", lambda body: unb64(_first_res(body)))

    def set_default(self, pcid: str, emaid: str) -> None:
        expect(self.client.op("setDefaultContract", {"pcid": pcid, "emaid": emaid},
                              role=self.role, party=self.party), f"default {emaid}")

    def factory_reset(self, pcid: str) -> None:
        expect(self.withdraw(pcid), f"factory reset {pcid}", 200, 204)
        self.vehicles.pop(pcid, None)


    def on_event(self, event: dict) -> None:
        """A webhook delivery about a contract of one of the OEM's vehicles. Pulling happens
        before the delivery is answered: if it fails, the receiver answers 500 and the event
        service retries (and tells the MO its event is queued), which is what a backend that
        could not take the contract should cause."""
        kind, payload = event.get("eventType"), event.get("payload") or {}
        key = (str(payload.get("pcid")), str(payload.get("emaid")))
        if kind in ("oem.contract.created", "oem.contract.updated"):
            self.installable[key] = self.provide(key[1], key[0])
        elif kind == "oem.contract.deleted":
            self.installable.pop(key, None)

    def subscribe(self, receiver: Receiver, hook: str, url: str,
                  events: tuple[str, ...] = CONTRACT_EVENTS) -> str:
        return subscribe(self.client, self.role, self.party, receiver, hook, url, events,
                         self.on_event, "simulated OEM: contract delivery")

    def unsubscribe(self, endpoint_id: str) -> None:
        unsubscribe(self.client, self.role, self.party, endpoint_id)


def iso20_v2g_root(client: OpcpClient, role: str = "OEM", party: int = 0,
                   algorithm: str = "secp521r1") -> bytes:
    """The ecosystem's ISO 15118-20 V2G root of `algorithm`, as the EST `oem` CA publishes it
    (cacerts ISO15118-20/{algorithm}: Sub-CA 2, Sub-CA 1, root), which the operator puts into
    the RCP: the secp521r1 one is the root a -20 vehicle trusts (its CPS and contracts are
    secp521r1); the ed448 one anchors the provisioning certificates EST issues to Ed448
    vehicles."""
    got = expect(client.op("caCerts-OEM", {"isoVersion": "ISO15118-20", "algorithm": algorithm},
                           role=role, party=party),
                 f"the EST oem CA's ISO 15118-20 {algorithm} chain")
    roots = [c for c in certs_only(got, "cacerts") if c.subject == c.issuer]
    if len(roots) != 1:
        raise EnrollmentRefused(f"cacerts ISO15118-20/{algorithm} holds {len(roots)} roots, not"
                                " one", got)
    return roots[0].public_bytes(serialization.Encoding.DER)


def _first_res(body: dict) -> str:
    """certificateInstallationRes from the CCP's answer shapes (a list of messageDefs, or one)."""
    content = body.get("CCPResponse", body)
    items = content.get("emaidContent", [content]) if isinstance(content, dict) else content
    for item in items:
        message = item.get("messageDef", item)
        if "certificateInstallationRes" in message:
            return message["certificateInstallationRes"]
    raise ValueError("no certificateInstallationRes in the answer")
