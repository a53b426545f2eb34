"""The simulated OEM backend: produces vehicles, publishes their provisioning certificates to
the PCP, pulls their contracts from the CCP, sets the default one, and factory-resets them.
`subscribe` runs the OEM's webhook endpoint: a new or updated contract (oem.contract.created,
.updated) is pulled at once and kept for the vehicle's over-the-air installation; a deleted
one is dropped (`installable`).

Provisioning certificates come from a `simulators.provisioning` source: the OEM's own Sub-CA
(give `sub2` and `sub1`, or an `OemPki`), or EST at the ecosystem's V2G PKI
(`source=EstEnrollment(client)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faker import Faker

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from simulators.common import ISO2, b64, expect, parsed, subscribe, trusted_roots, unb64, unsubscribe
from simulators.ev import Vehicle
from simulators.provisioning import IssuingCa, ProvisioningSource
from simulators.webhook_receiver import Receiver
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
        assert self.source is not None
        chain = self.source.certify(pcid, key)
        roots = trusted_roots(self.client, self.role, self.party, "v2g")
        vehicle = Vehicle(pcid, chain[0], key, roots)
        self.vehicles[pcid] = vehicle
        self.chains[pcid] = chain
        return vehicle

    def publish(self, vehicle: Vehicle) -> dict:
        chain = self.chains.get(vehicle.pcid)
        if chain is None:  # a vehicle made elsewhere under this OEM's own Sub-CA
            assert self.sub2 is not None and self.sub1 is not None
            chain = [vehicle.provisioning_cert, self.sub2.der, self.sub1.der]
        body = {"vehicleCertificate": b64(chain[0]), "subCA1Certificate": b64(chain[-1]),
                "xsdMsgDefNamespace": ISO2}
        if len(chain) == 3:
            body["subCA2Certificate"] = b64(chain[1])
        got = self.client.op("addOemProvCert", role=self.role, party=self.party, json=body)
        return expect(got, f"publish {vehicle.pcid}").json()

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
        expect(self.client.op("deleteOemProvCert", {"pcid": pcid}, role=self.role, party=self.party),
               f"factory reset {pcid}", 200, 204)
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


def _first_res(body: dict) -> str:
    """certificateInstallationRes from the CCP's answer shapes (a list of messageDefs, or one)."""
    content = body.get("CCPResponse", body)
    items = content.get("emaidContent", [content]) if isinstance(content, dict) else content
    for item in items:
        message = item.get("messageDef", item)
        if "certificateInstallationRes" in message:
            return message["certificateInstallationRes"]
    raise ValueError("no certificateInstallationRes in the answer")
