"""`opcp demo`: the whole Plug&Charge story, told step by step, against any OPCP deployment.

The operator registers the OEM's and the MO's own roots in the RCP; the OEM produces a vehicle
and publishes its provisioning certificate (from its own PKI, or with `oem_est` enrolled over
EST at the ecosystem's V2G PKI, whose root is in the RCP already); the MO (own PKI) looks the
vehicle up, validates
its chain, issues a contract and has the CPS sign it into the CCP; the vehicle asks for its
contract through the CPO backend (CertificateInstallationReq -> CCP -> Res); the vehicle
checks everything and installs the contract (`run`). `run_across` tells it across two peered
ecosystems: the contract is in the peer's pool, the CPO's pool forwards. Every line of the transcript says who called
what and what came back; the last line is `installed: EMAID=<emaid> PCID=<pcid>`.

`iso="20"` tells the same story in ISO 15118-20 (docs/iso20.md): the operator puts the
ecosystem's -20 V2G root (as EST publishes it) and the OEM's and MO's -20 roots into the RCP,
tagged with the -20 namespace; the OEM's secp521r1 vehicle (or with `curve="ed448"` an Ed448 one,
whose contract keys are encrypted on its X448 key) takes two contracts; the MO issues
two -20 contracts and the CPS signs them; the vehicle's one signed -20
CertificateInstallationReq brings one CertificateInstallationRes per contract, which the
vehicle takes one exchange each, counting RemainingContractCertificateChains down. One
`installed: EMAID=... PCID=...` line per contract.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from opcp.target import Target
from simulators.actor_calls import ActorError, expect, trusted_roots
from simulators.cpo import CpoBackend
from simulators.ev import installation_answers
from simulators.mo import MoOwnPki, MoV2gPki
from simulators.oem import Oem, iso20_v2g_root
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.provisioning import EstEnrollment
from v2g.contract_data import decode_installation_res
from v2g.namespaces import ISO20_CANONICAL, ISO20_COMMON_MESSAGES
from v2g.pki.profiles import Role
from v2g.pki.validate import Purpose, TrustAnchor, TrustStore, validate_chain


@dataclass
class Transcript:
    out: Callable[[str], None] = print
    step: int = 0
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = time.perf_counter()

    def say(self, who: str, what: str) -> None:
        self.step += 1
        self.out(f"[{self.step:2}] {time.perf_counter() - self.started:6.2f}s {who:4} {what}")


def _cn(der: bytes) -> str:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def run(target: Target, out: Callable[[str], None] = print, oem_est: bool = False,
        iso: str = "2", curve: str = "secp521r1") -> tuple[str, str]:
    """Tell the story against `target`; returns (emaid, pcid): for -20 the last contract's.
    `curve` (-20 only): the vehicle's provisioning algorithm, secp521r1 or ed448."""
    if curve not in ("secp521r1", "ed448"):
        raise ValueError(f"curve: secp521r1 or ed448, not {curve!r}")
    if curve != "secp521r1" and iso != "20":
        raise ValueError("curve: an Ed448 vehicle is an ISO 15118-20 one (iso='20')")
    log = Transcript(out)
    faker = Faker()
    faker.add_provider(PnCIdProvider)
    client = OpcpClient(target)
    responder = SuiteOcspResponder().start()
    added_roots: list[str] = []
    try:
        if iso == "20":
            return _run20(target, log, out, client, responder, added_roots, faker, oem_est, curve)
        oem_pki = OemPki.build(responder, f"Demo OEM {faker.pystr(5, 5)}")
        mo_pki = OemPki.build(responder, f"Demo MO {faker.pystr(5, 5)}", role="mo")
        own_roots = [(mo_pki, "MO")] if oem_est else [(oem_pki, "OEM"), (mo_pki, "MO")]
        for pki, root_type in own_roots:
            got = expect(client.op("saveRootCa", role="ADMIN", json={
                "caCertificate": base64.b64encode(pki.root.der).decode(), "rootType": root_type}),
                f"register the {root_type} root")
            added_roots.append(got.json()["RootResponse"]["rootCertificateId"])
            log.say("RCP", f"operator registered {root_type} root '{_cn(pki.root.der)}' "
                           f"(id {added_roots[-1]})")

        source = EstEnrollment(client) if oem_est else oem_pki
        oem = Oem(client, wmi=_wmi(target), source=source)
        vehicle = oem.produce_vehicle()
        pcid = vehicle.pcid
        origin = ("enrolled over EST at the V2G PKI's oem CA" if oem_est
                  else "from the OEM's own PKI")
        log.say("OEM", f"produced vehicle PCID {pcid}: provisioning certificate {origin} "
                       f"({len(vehicle.provisioning_cert)} bytes DER), trusts "
                       f"{len(vehicle.trusted_v2g_roots)} V2G root(s)")
        oem.publish(vehicle)
        log.say("PCP", f"OEM published {pcid}: chain checked (WMI, validity, OCSP, trust)")

        emaid = faker.emaid(prefix=_emaid_prefix(target), check_digit=False)
        mo = MoOwnPki(client, sub2=mo_pki.sub2, sub1=mo_pki.sub1)
        assert mo.lookup_vehicle(pcid)
        log.say("MO", f"looked up {pcid}: in the pool")
        chain = mo.provisioning_chain(pcid)
        mo.validate_vehicle(chain)
        log.say("MO", f"fetched and validated {pcid}'s chain ({len(chain)} certificates) "
                      "against the RCP's OEM and V2G roots")
        contract = mo.issue_contract(pcid, emaid)
        signed = contract.answer
        log.say("CPS", f"signed contract data for EMAID {emaid} under V2G root "
                       f"{signed.get('cpsRootDistinguishedName', '?')}; stored in the CCP for {pcid}")

        request = vehicle.installation_req()
        log.say("EV", f"built a signed CertificateInstallationReq ({len(request)} bytes EXI)")
        response = CpoBackend(client).certificate_installation(request)
        log.say("CPO", f"forwarded it to the CCP; got a CertificateInstallationRes "
                       f"({len(response)} bytes EXI)")
        installed = vehicle.accept(response)
        log.say("EV", f"checked the CPS signature and chain ({installed.cps_subject}), the contract "
                      "chain, decrypted the contract key and matched it to the certificate")
        trust = TrustStore([TrustAnchor.of(mo_pki.root.der, Role.MO)])
        validate_chain(list(installed.contract_chain), trust, purpose=Purpose.CONTRACT)
        out(f"installed: EMAID={installed.emaid} PCID={pcid}")
        return installed.emaid, pcid
    finally:
        for root_id in added_roots:
            client.op("deleteRootCa", {"rootCertificateId": root_id}, role="ADMIN")
        responder.stop()
        client.close()



def _wmi(target: Target) -> str:
    oem_client = target.client("OEM")
    return oem_client.wmis[0] if oem_client and oem_client.wmis else "WMA"


def _emaid_prefix(target: Target) -> str:
    mo_client = target.client("MO")
    return mo_client.emaid_prefixes[0] if mo_client and mo_client.emaid_prefixes else "DEABC"


def _register_root(client: OpcpClient, log: Transcript, der: bytes, root_type: str,
                   added: list[str]) -> None:
    got = expect(client.op("saveRootCa", role="ADMIN", json={
        "caCertificate": base64.b64encode(der).decode(), "rootType": root_type,
        "xsdMsgDefNamespace": ISO20_CANONICAL}), f"register the -20 {root_type} root")
    added.append(got.json()["RootResponse"]["rootCertificateId"])
    log.say("RCP", f"operator registered ISO 15118-20 {root_type} root '{_cn(der)}' "
                   f"(id {added[-1]})")


def _run20(target: Target, log: Transcript, out: Callable[[str], None], client: OpcpClient,
           responder: SuiteOcspResponder, added: list[str], faker: Faker,
           oem_est: bool = False, curve: str = "secp521r1") -> tuple[str, str]:
    # An Ed448 vehicle enrolled over EST is certified under the ecosystem's Ed448 V2G root,
    # which the pool then needs too; its CPS and contracts stay under the secp521r1 one.
    needed = ("secp521r1", "ed448") if oem_est and curve == "ed448" else ("secp521r1",)
    for algorithm in needed:
        v2g_root = iso20_v2g_root(client, algorithm=algorithm)
        if v2g_root not in trusted_roots(client, "OEM", 0, "v2g"):
            _register_root(client, log, v2g_root, "V2G", added)
    oem_pki = OemPki.build(responder, f"Demo OEM {faker.pystr(5, 5)}", algorithm=curve)
    mo_pki = OemPki.build(responder, f"Demo MO {faker.pystr(5, 5)}", role="mo",
                          algorithm="secp521r1")
    if not oem_est:
        _register_root(client, log, oem_pki.root.der, "OEM", added)
    _register_root(client, log, mo_pki.root.der, "MO", added)

    source = (EstEnrollment(client, iso_version="ISO15118-20", algorithm=curve) if oem_est
              else oem_pki)
    oem = Oem(client, wmi=_wmi(target), source=source)
    vehicle = oem.produce_vehicle20(algorithm=curve, maximum_chains=2)
    pcid = vehicle.pcid
    origin = (f"enrolled over EST (oem, ISO15118-20/{curve})" if oem_est
              else "from the OEM's own -20 PKI")
    ecdhe = " with an X448 ECDHE key in 2.5.29.72" if curve == "ed448" else ""
    log.say("OEM", f"produced ISO 15118-20 vehicle PCID {pcid}: {curve} provisioning"
                   f" certificate{ecdhe} {origin} ({len(vehicle.provisioning_cert)} bytes DER), trusts"
                   f" {len(vehicle.trusted_v2g_roots)} -20 V2G root(s), takes up to"
                   f" {vehicle.maximum_chains} contracts")
    oem.publish(vehicle)
    log.say("PCP", f"OEM published {pcid} with the -20 namespace: chain checked as ISO 15118-20")

    mo = MoOwnPki(client, sub2=mo_pki.sub2, sub1=mo_pki.sub1)
    ecdh = "X448" if curve == "ed448" else "SECP521"
    for _ in range(2):
        emaid = faker.emaid(prefix=_emaid_prefix(target), check_digit=False)
        signed = mo.issue_contract(pcid, emaid).answer
        log.say("CPS", f"signed -20 contract data for EMAID {emaid} (secp521r1 contract key,"
                       f" ECDHE {ecdh}, AES-GCM-256,"
                       f" AAD {pcid} + contract SKI) under V2G root"
                       f" {signed.get('cpsRootDistinguishedName', '?')}; stored in the CCP")

    request = vehicle.installation_req(bytes(faker.binary(8)))
    signer = "Ed448" if curve == "ed448" else "secp521r1"
    log.say("EV", f"built a signed ({signer}) -20 CertificateInstallationReq ({len(request)} bytes EXI,"
                  f" MaximumContractCertificateChains {vehicle.maximum_chains})")
    got = expect(CpoBackend(client).request_exchange(request, ISO20_COMMON_MESSAGES),
                 "the CCP's -20 answers")
    answers = installation_answers(got.json())
    log.say("CPO", f"forwarded it to the CCP ({ISO20_COMMON_MESSAGES}); got {len(answers)}"
                   " CertificateInstallationRes, one per contract")
    trust = TrustStore([TrustAnchor.of(mo_pki.root.der, Role.MO)])
    installed = vehicle.accept_all(answers)
    for n, contract in enumerate(installed, 1):
        validate_chain(list(contract.contract_chain), trust, purpose=Purpose.CONTRACT, iso="20")
        log.say("EV", f"exchange {n}: checked the CPS signature and -20 chains, decrypted the"
                      f" contract key (ECDHE {ecdh} on its"
                      f" {'X448' if curve == 'ed448' else 'provisioning'} key, AES-GCM-256),"
                      f" RemainingContractCertificateChains"
                      f" {contract.remaining}")
        out(f"installed: EMAID={contract.emaid} PCID={pcid}")
    return installed[-1].emaid, pcid
def run_across(home: Target, peer: Target, out: Callable[[str], None] = print) -> tuple[str, str]:
    """The story across two peered ecosystems: a vehicle of an OEM of `home` (ecosystem A)
    is under contract with an MO of `peer` (ecosystem B) and charges at a CPO of A. A's CCP
    holds no contract for it and forwards the request to its peer B, whose answer the vehicle
    installs. `home` must list `peer` among its peers (`opcp up --ecosystems 2`, or the
    target file's [peer]). Returns (emaid, pcid)."""
    log = Transcript(out)
    faker = Faker()
    faker.add_provider(PnCIdProvider)
    client_a, client_b = OpcpClient(home), OpcpClient(peer)
    responder = SuiteOcspResponder().start()
    added: list[tuple[OpcpClient, str]] = []
    try:
        oem_pki = OemPki.build(responder, f"Demo OEM {faker.pystr(5, 5)}")
        # The OEM works with both pools: each operator registers its root.
        for name, client in (("A", client_a), ("B", client_b)):
            got = expect(client.op("saveRootCa", role="ADMIN", json={
                "caCertificate": base64.b64encode(oem_pki.root.der).decode(),
                "rootType": "OEM"}), f"register the OEM root in ecosystem {name}")
            added.append((client, got.json()["RootResponse"]["rootCertificateId"]))
            log.say("RCP", f"operator of {name} registered OEM root '{_cn(oem_pki.root.der)}'")

        oem_client = home.client("OEM")
        wmi = oem_client.wmis[0] if oem_client and oem_client.wmis else "WMA"
        oem = Oem(client_a, wmi=wmi, source=oem_pki)
        vehicle = oem.produce_vehicle()
        pcid = vehicle.pcid
        roots_a = len(vehicle.trusted_v2g_roots)
        roots_b = trusted_roots(client_b, "OEM", 0, "v2g")
        # The vehicle's trust list holds the V2G roots of every ecosystem it charges in.
        vehicle.trusted_v2g_roots = [*vehicle.trusted_v2g_roots,
                                     *(r for r in roots_b if r not in vehicle.trusted_v2g_roots)]
        log.say("OEM", f"(of A) produced vehicle PCID {pcid}; it trusts {roots_a} V2G root(s) of A"
                       f" and {len(roots_b)} of B")
        oem.publish(vehicle)
        log.say("PCP", f"OEM published {pcid} in A's pool")
        expect(Oem(client_b, wmi=wmi, source=oem_pki).put_provisioning(
            oem.provisioning_body(pcid)), f"publish {pcid} in B's pool")
        log.say("PCP", f"OEM published {pcid} in B's pool too (B's MOs sign contracts for it)")

        mo_client = peer.client("MO_V2G")
        if mo_client is None or not mo_client.emaid_prefixes:
            raise ActorError("ecosystem B's target file has no MO_V2G client with an EMAID prefix")
        emaid = faker.emaid(prefix=mo_client.emaid_prefixes[0], check_digit=False)
        mo = MoV2gPki(client_b)
        mo.generate_contract(pcid, emaid)
        log.say("MO", f"(of B) had B's CPS generate contract {emaid} for {pcid}: pooled in B's CCP")
        held = oem.contracts(pcid)
        if held:
            raise ActorError(f"A's pool holds contracts for {pcid} already: {held}")
        log.say("CCP", f"A's pool holds no contract for {pcid} (OEM's getContracts: none)")

        request = vehicle.installation_req()
        log.say("EV", f"built a signed CertificateInstallationReq ({len(request)} bytes EXI)")
        response = CpoBackend(client_a).certificate_installation(request)
        log.say("CPO", f"(of A) asked A's CCP; A forwarded to its peer B and answered a"
                       f" CertificateInstallationRes ({len(response)} bytes EXI)")
        installed = vehicle.accept(response)
        trust_b = TrustStore([TrustAnchor.of(r, Role.V2G) for r in roots_b])
        res_chain = _cps_chain(response)
        validate_chain(res_chain, trust_b, purpose=Purpose.CPS)
        log.say("EV", f"checked the CPS signature and chain ({installed.cps_subject}, under a V2G"
                      " root of B), the contract chain, decrypted the contract key")
        out(f"installed: EMAID={installed.emaid} PCID={pcid}")
        return installed.emaid, pcid
    finally:
        for client, root_id in added:
            client.op("deleteRootCa", {"rootCertificateId": root_id}, role="ADMIN")
        responder.stop()
        client_a.close()
        client_b.close()


def _cps_chain(response: bytes) -> list[bytes]:
    res, _ = decode_installation_res(response)
    chain = res.sa_provisioning_certificate_chain
    return [chain.certificate, *chain.sub_certificates]
