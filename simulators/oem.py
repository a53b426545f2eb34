"""The simulated OEM backend: produces vehicles, publishes their provisioning certificates to
the PCP, pulls their contracts from the CCP, sets the default one, and factory-resets them."""

from __future__ import annotations

from dataclasses import dataclass, field

from faker import Faker

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from simulators.common import ISO2, b64, expect, trusted_roots, unb64
from simulators.ev import Vehicle
from v2g.pki.builder import Issued, issue, new_key


@dataclass
class Oem:
    client: OpcpClient
    sub2: Issued  # the OEM Sub-CA 2 that signs provisioning certificates (with its key)
    sub1: Issued
    wmi: str
    party: int = 0
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    role: str = "OEM"
    # The OEM's OCSP responder: the pool asks it about every certificate it is given.
    ocsp_url: str | None = None

    def __post_init__(self) -> None:
        self._faker = Faker()
        self._faker.add_provider(PnCIdProvider)

    def produce_vehicle(self, pcid: str | None = None) -> Vehicle:
        """A vehicle with a fresh provisioning key and certificate, trusting the RCP's V2G roots."""
        pcid = pcid or self._faker.pcid(wmi=self.wmi, check_digit=False)
        key = new_key()
        cert = issue("oem_prov_leaf", pcid, self.sub2, key=key, ocsp_url=self.ocsp_url)
        roots = trusted_roots(self.client, self.role, self.party, "v2g")
        vehicle = Vehicle(pcid, cert.der, key, roots)
        self.vehicles[pcid] = vehicle
        return vehicle

    def publish(self, vehicle: Vehicle) -> dict:
        body = {"vehicleCertificate": b64(vehicle.provisioning_cert),
                "subCA2Certificate": b64(self.sub2.der), "subCA1Certificate": b64(self.sub1.der),
                "xsdMsgDefNamespace": ISO2}
        got = self.client.call("PUT", "pcp", "/v1/oem/provCerts", role=self.role, party=self.party,
                               json=body)
        return expect(got, f"publish {vehicle.pcid}").json()

    def contracts(self, pcid: str) -> list[dict]:
        got = self.client.call("GET", "ccp", f"/v1/ccp/signedContractData/{pcid}", role=self.role,
                               party=self.party)
        if got.status == 404:
            return []
        body = expect(got, f"contracts of {pcid}").json()
        return body.get("CCPResponse", {}).get("emaidContent", []) if isinstance(body, dict) else []

    def provide(self, emaid: str, pcid: str) -> bytes:
        """The signed CertificateInstallationRes for one contract, as EXI."""
        got = expect(self.client.call("GET", "ccp", f"/v1/ccp/provideSignedContractData/{emaid}/{pcid}",
                                      role=self.role, party=self.party), f"contract {emaid}")
        return unb64(_first_res(got.json()))

    def set_default(self, pcid: str, emaid: str) -> None:
        expect(self.client.call("POST", "ccp", f"/v1/ccp/signedContractData/{pcid}/{emaid}/default",
                                role=self.role, party=self.party), f"default {emaid}")

    def factory_reset(self, pcid: str) -> None:
        expect(self.client.call("DELETE", "pcp", f"/v1/oem/provCerts/{pcid}", role=self.role,
                                party=self.party), f"factory reset {pcid}", 200, 204)
        self.vehicles.pop(pcid, None)


def _first_res(body: dict) -> str:
    """certificateInstallationRes from the CCP's answer shapes (a list of messageDefs, or one)."""
    content = body.get("CCPResponse", body)
    items = content.get("emaidContent", [content]) if isinstance(content, dict) else content
    for item in items:
        message = item.get("messageDef", item)
        if "certificateInstallationRes" in message:
            return message["certificateInstallationRes"]
    raise ValueError("no certificateInstallationRes in the answer")
