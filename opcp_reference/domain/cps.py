"""Certificate Provisioning Service (docs/components/03, reference/cps.v1.json).

The CPS turns contract data into signed contract data: an ISO 15118-2
CertificateInstallationRes signed by a CPS leaf (`v2g.contract_data.build_installation_res`).

Signers: one CPS leaf under each CPS Sub-CA 2 of the reference's PKI (one per V2G root),
issued on first use and kept sealed in `cps_signers`. `cpsV2GRootCertificateFingerprint`
(the V2G root's RCP id, or its SHA-256 hex: E-CPS-1) picks the signer; without it the
signer under the first V2G root signs.

ISO 15118-20 (docs/iso20.md): an `xsdMsgDefNamespace` of -20 (any spelling, E-NS-1) asks for
a -20 CertificateInstallationRes (`v2g.contract_data20`): contract data of secp521r1 keys,
the key encrypted per ISO 15118-20 (the field read off the encrypted key's length, ECDHCurve
SECP521 or X448 off the DHPublicKey's: an Ed448 vehicle's key is X448-encrypted), signed
by a -20 CPS leaf under the reference's `p521.cps.sub2` once its V2G root is in the RCP. A
-20 namespace with -2 contract data (or the reverse) is refused naming the namespace.

Two MO variants:
- MO (own PKI), `signContractData`: the MO brings the contract chain and the contract key
  already encrypted to the vehicle; the CPS checks the chain leads to an MO or V2G root in the
  RCP, that the EMAID (the contract certificate's CN) is the MO's (403), and the shapes of
  the key material, then signs;
- MO_V2G, `generateSignedContractData`: the reference's V2G-derived MO Sub-CA 2 issues the
  contract certificate (validity = contractBegins..contractEnds) for a fresh key, which is
  encrypted to the provisioning key the PCP holds for the PCID.
With a PCID the signed data is pooled in the CCP in the same transaction.

signedData in the response is the base64 of the XML form of the signed message, as the
spec's field description and real example show (E-CPS-2); the CCP serves EXI.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from opcp.errors import BadRequest, NotFound
from opcp.models.base import iso_z
from opcp_reference.domain import ccp, inputs, ownership, pki, rcp_trust
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g import exi, ids
from v2g.contract_data import ContractData, ContractDataError, build_installation_res, encrypt_for_vehicle
from v2g.contract_data20 import ContractData20, build_installation_res20, encrypt_for_vehicle20
from v2g.contract_key20 import EcdhCurve, EncryptedContractKey20, KeyField
from v2g.namespaces import ISO2_MSG_DEF, ISO20_CANONICAL, iso_part, iso_part_of_key
from v2g.pki.builder import issue, new_key
from v2g.pki.certinfo import display_dn
from v2g.pki.validate import Purpose

ENCRYPTED_KEY_BYTES = 48  # IV (16) + AES-128-CBC of the 32-byte key (ISO 15118-2 V2G2-818)
# ISO 15118-20: the encrypted key's length gives the field ([V2G20-2499], [V2G20-2502]); the
# DHPublicKey's gives the ECDHCurve ([V2G20-2489]: 133 bytes on secp521r1, 57 = 04 || u or the
# bare 56 on X448). The two are independent: a secp521r1 contract key for an Ed448 vehicle is
# a SECP521_EncryptedPrivateKey under an X448 ECDHE.
KEY_FIELDS_20 = {94: KeyField.SECP521, 84: KeyField.X448}
DH_CURVES_20 = {133: EcdhCurve.SECP521, 57: EcdhCurve.X448, 56: EcdhCurve.X448}
# The CPS Sub-CA 2 profiles signers are issued under, and the leaf profile, per ISO part.
SIGNER_PROFILES = {"2": ("cps_sub2", "cps_leaf"), "20": ("cps_sub2_20", "cps_leaf_20")}
CONTRACT_FIELDS = ["contractCertificate", "contractSubCa2Certificate",
                   "contractSubCa1Certificate"]


@dataclass(frozen=True)
class Signer:
    sub2_name: str
    chain: list[x509.Certificate]  # leaf, Sub-CA 2, Sub-CA 1 (no root)
    root: sqlite3.Row  # the V2G root's RCP row
    key_sealed: bytes

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]


def _seal_context(sub2_name: str) -> bytes:
    return f"cps-signer:{sub2_name}".encode()


def _ensure_signers(store: Store, iso: str = "2") -> None:
    """Issue the missing CPS leaves, one under each CPS Sub-CA 2 of ISO part `iso` the
    reference holds a key of."""
    sub2_profile, leaf_profile = SIGNER_PROFILES[iso]
    have = {r["sub2_name"] for r in store.query("SELECT sub2_name FROM cps_signers")}
    subs = store.query("SELECT name FROM ca WHERE profile = ? AND key_sealed IS NOT NULL"
                       " ORDER BY name", (sub2_profile,))
    for row in subs:
        if row["name"] in have:
            continue
        issuer = pki.issuer_for_signing(store, row["name"])
        number = row["name"].split(".")[0].removeprefix("v2g")
        leaf = issue(leaf_profile, f"OPCP CPS Signer {number}", issuer, ocsp_url=pki.ocsp_url(store))
        sealed = store.sealer.seal(leaf.key_pem(), _seal_context(row["name"]))
        with store.tx() as db:
            db.execute("INSERT INTO cps_signers (sub2_name, der, key_sealed, created_at)"
                       " VALUES (?,?,?,?) ON CONFLICT DO NOTHING", (row["name"], leaf.der, sealed,
                                             dt.datetime.now(dt.UTC).isoformat()))
        pki.record_issued(store, row["name"], leaf.cert, None)


def signers(store: Store, iso: str = "2") -> list[Signer]:
    """Every CPS signer of ISO part `iso` whose V2G root is in the RCP, first V2G root first."""
    _ensure_signers(store, iso)
    out = []
    for row in store.query("SELECT s.* FROM cps_signers s JOIN ca ON ca.name = s.sub2_name"
                           " WHERE ca.profile = ? ORDER BY s.sub2_name", (SIGNER_PROFILES[iso][0],)):
        cas = pki.chain_of(store, row["sub2_name"])  # Sub-CA 2, Sub-CA 1, root
        found = rcp_trust.root_of(store, cas[-2], ("V2G",))
        if found is None:
            continue  # its root left the RCP: nobody could trust what it signs
        root = found[0]
        leaf = x509.load_der_x509_certificate(bytes(row["der"]))
        out.append(Signer(row["sub2_name"], [leaf, *cas[:-1]], root, bytes(row["key_sealed"])))
    return out


def _ski(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return None


def vehicle_root_keys(prov: sqlite3.Row) -> set[bytes]:
    """The key identifiers of the V2G roots a vehicle trusts, as the PCP holds them
    (v2gRootAuthorityKeyIdentifiers: hex with or without colons, or base64)."""
    if not prov["v2g_root_akis"]:
        return set()
    out = set()
    for value in json.loads(prov["v2g_root_akis"]):
        text = value.replace(":", "").strip()
        try:
            out.add(bytes.fromhex(text))
        except ValueError:
            try:
                out.add(base64.b64decode(text, validate=True))
            except (binascii.Error, ValueError):
                continue  # not an identifier of a root we could match
    return out


def pick_signer(store: Store, fingerprint: object, vehicle_keys: set[bytes] | frozenset = frozenset(),
                iso: str = "2", faults: Faults | None = None) -> Signer:
    """The signer `fingerprint` names; without it ("the CPS will decide") one under a V2G root
    the vehicle trusts (its PCP key identifiers), else one under a root such a root vouches for
    by a cross-certificate of the RCP, else (no identifiers known) the first."""
    available = signers(store, iso)
    if not available:
        raise NotFound(f"cps: no ISO 15118-{iso} CPS signer under a V2G root of the Root"
                       " Certificate Pool")
    if fingerprint is None:
        if not vehicle_keys:
            return available[0]
        for signer in available:
            if _ski(x509.load_der_x509_certificate(bytes(signer.root["der"]))) in vehicle_keys:
                return signer
        for signer in available:
            root = x509.load_der_x509_certificate(bytes(signer.root["der"]))
            if any(_ski(v) in vehicle_keys for v in rcp_trust.vouching_roots(store, root)):
                return signer
        raise BadRequest("pcid: the vehicle trusts no V2G root a CPS signer of this ecosystem"
                         " chains to, directly or through a cross-certificate"
                         " (v2gRootAuthorityKeyIdentifiers of its provisioning certificate)")
    if not isinstance(fingerprint, str):
        raise BadRequest("cpsV2GRootCertificateFingerprint: must be a string")
    wanted = fingerprint.replace(":", "").lower()
    if faults is not None and faults.on("cps-generate-first-root-only"):
        available = [s for s in available if s.root["id"] == available[0].root["id"]]
    for signer in available:
        if wanted in (signer.root["id"].lower(), signer.root["fingerprint"].lower()):
            return signer
    raise BadRequest(f"cpsV2GRootCertificateFingerprint: no CPS signer under the V2G root"
                     f" {fingerprint} (see GET /cps/signer)")


def _key(store: Store, signer: Signer) -> ec.EllipticCurvePrivateKey:
    pem = store.sealer.unseal(signer.key_sealed, _seal_context(signer.sub2_name))
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _iso(signer: Signer) -> str:
    return iso_part_of_key(signer.leaf.public_key()) or "2"


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def list_signers(store: Store) -> dict:
    out = []
    # -2 signers first (clients take the first), then -20 ones whose root is in the RCP.
    for s in [*signers(store), *signers(store, "20")]:
        root = x509.load_der_x509_certificate(bytes(s.root["der"]))
        org = s.leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
        entry = {"cpsDistinguishedName": display_dn(s.leaf.subject),
                 "cpsCertificate": inputs.b64(_der(s.leaf)),
                 "validFrom": iso_z(s.leaf.not_valid_before_utc),
                 "validTo": iso_z(s.leaf.not_valid_after_utc),
                 "organizationName": str(org[0].value) if org else "OPCP reference",
                 "cpsV2GRootCertificateFingerprint": s.root["id"],
                 "cpsRootDistinguishedName": display_dn(root.subject),
                 "cpsSubCa1Certificate": inputs.b64(_der(s.chain[-1])),
                 "xsdMsgDefNamespace": ISO2_MSG_DEF if _iso(s) == "2" else ISO20_CANONICAL}
        if len(s.chain) == 3:
            entry["cpsSubCa2Certificate"] = inputs.b64(_der(s.chain[1]))
        out.append(entry)
    return {"cpsCertificates": out}


# ----------------------------------------------------------------------------- signing

def _sign(store: Store, signer: Signer, contract: ContractData | ContractData20, faults: Faults
          ) -> ccp.SignedData:
    if isinstance(contract, ContractData20):
        if faults.on("cps-20-names-wrong-curve"):
            other = EcdhCurve.X448 if contract.key.ecdh_curve == EcdhCurve.SECP521 else EcdhCurve.SECP521
            contract = ContractData20(contract.emaid, contract.contract_chain,
                                      EncryptedContractKey20(other, contract.key.dh_public_key,
                                                             contract.key.field,
                                                             contract.key.encrypted_private_key))
        res = build_installation_res20(contract, [_der(c) for c in signer.chain], _key(store, signer))
        return ccp.SignedData(contract.emaid, res, contract.contract_chain[0], signer.root,
                              ISO20_CANONICAL)
    key = new_key() if faults.on("cps-signs-with-foreign-key") else _key(store, signer)
    res = build_installation_res(contract, [_der(c) for c in signer.chain], key)
    return ccp.SignedData(contract.emaid, res, contract.contract_chain[0], signer.root)


def _answer(data: ccp.SignedData, pcid: str | None, signer: Signer) -> dict:
    root = x509.load_der_x509_certificate(bytes(signer.root["der"]))
    xml = exi.exi_to_xml(data.exi, ccp.SCHEMAS[data.namespace])
    out = {"emaid": data.emaid, "xsdMsgDefNamespace": data.namespace,
           "signedData": base64.b64encode(xml.encode()).decode(),
           "cpsV2GRootCertificateFingerprint": signer.root["id"],
           "cpsRootDistinguishedName": display_dn(root.subject)}
    if pcid is not None:
        out["pcid"] = pcid
    return out


def _emaid_of(leaf_der: bytes) -> str:
    cn = x509.load_der_x509_certificate(leaf_der).subject.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)
    try:
        return ids.normalise_emaid(str(cn[0].value) if cn else "", check=False)
    except ids.IdError:
        raise BadRequest("contractData.contractCertificate: its CN is not an EMAID") from None


def _pcid_in_pool(store: Store, pcid: str) -> sqlite3.Row:
    row = store.query_one("SELECT * FROM prov_certs WHERE pcid = ?", (pcid,))
    if row is None:
        raise NotFound(f"pcid: no provisioning certificate for PCID {pcid} in the pool")
    return row


_CHAIN_V1 = "contractData.contractSignatureCertChain."


def _contract_data(data: object, operation: str) -> tuple[dict, dict[str, str]]:
    """The ContractData members of a request's contractData, and the name each has in the
    request (for errors). signContractData takes cps.v1.json's ContractData; the deprecated
    pair takes its "contract-data" (Contract Data V1: the chain as one object, the EMAID
    beside the key). Either shape is read for any of them: the meaning is the same."""
    if isinstance(data, dict) and "contractSignatureCertChain" in data:
        data = inputs.body_of(data, operation, "ContractDataV1")
        chain = inputs.body_of(data["contractSignatureCertChain"], operation,
                               "ContractSignatureCertChainV1")
        subs = chain["contractSignatureCertChainSubCertificates"]
        subs_name = _CHAIN_V1 + "contractSignatureCertChainSubCertificates"
        if not isinstance(subs, list) or not 1 <= len(subs) <= 2:
            raise BadRequest(f"{subs_name}: must list 1 or 2 base64 certificates (MO Sub-CA 2,"
                             " then MO Sub-CA 1)")
        out = {"contractCertificate": chain["contractSignatureCertChainCertificate"],
               "contractSubCa1Certificate": subs[-1],
               "contractSignatureEncryptedPrivateKey": data["contractSignatureEncryptedPrivateKey"],
               "dHpublickey": data["dHpublickey"], "emaid": data["emaid"]}
        names = {"contractCertificate": _CHAIN_V1 + "contractSignatureCertChainCertificate",
                 "contractSubCa1Certificate": f"{subs_name}[{len(subs) - 1}]"}
        if len(subs) == 2:
            out["contractSubCa2Certificate"] = subs[0]
            names["contractSubCa2Certificate"] = f"{subs_name}[0]"
        return out, names
    data = inputs.body_of(data, operation, "ContractData")
    return data, {f: f"contractData.{f}" for f in CONTRACT_FIELDS}


def _checked_and_signed(store: Store, who: Principal, body: object, faults: Faults,
                        operation: str) -> tuple[dict, ccp.SignedData, Signer]:
    """The checks every signing call shares (steps 1-4 of docs/cps.md), then the signature."""
    body = inputs.body_of(body, operation)
    namespace = inputs.namespace(body["xsdMsgDefNamespace"])
    data, names = _contract_data(body["contractData"], operation)
    fields = [f for f in CONTRACT_FIELDS if data.get(f) is not None]
    chain = [inputs.certificate_der(data[f], names[f], inputs.MAX_B64) for f in fields]
    iso = _fitting_iso(namespace, chain[0], names["contractCertificate"])
    emaid = _emaid_of(chain[0])
    for where, given in (("emaid", body.get("emaid")), ("contractData.emaid", data.get("emaid"))):
        if given is not None and inputs.emaid(given, where) != emaid:
            raise BadRequest(f"{where}: {given} is not the contract certificate's CN {emaid}")
    ownership.check(who, operation, emaid, faults)
    if not faults.on("cps-untrusted-contract-root"):
        rcp_trust.validate(store, chain, Purpose.CONTRACT, ("MO", "V2G"), [names[f] for f in fields],
                           iso=iso)
    if iso == "20":
        if body.get("pcid") is not None:
            body = {**body, "pcid": inputs.pcid(body["pcid"])}
        signer = pick_signer(store, body.get("cpsV2GRootCertificateFingerprint"), iso="20")
        contract20 = ContractData20(emaid, tuple(chain), _encrypted_key20(data))
        return body, _sign(store, signer, contract20, faults), signer
    encrypted = inputs.base64_bytes(data["contractSignatureEncryptedPrivateKey"],
                                    "contractData.contractSignatureEncryptedPrivateKey")
    if len(encrypted) != ENCRYPTED_KEY_BYTES:
        raise BadRequest(f"contractData.contractSignatureEncryptedPrivateKey: must be"
                         f" {ENCRYPTED_KEY_BYTES} bytes (IV + encrypted P-256 key), got"
                         f" {len(encrypted)}")
    dh = inputs.base64_bytes(data["dHpublickey"], "contractData.dHpublickey")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), dh)
    except ValueError:
        raise BadRequest("contractData.dHpublickey: must be a point on P-256 (uncompressed,"
                         " 65 bytes)") from None
    if body.get("pcid") is not None:
        body = {**body, "pcid": inputs.pcid(body["pcid"])}
    signer = pick_signer(store, body.get("cpsV2GRootCertificateFingerprint"))
    return body, _sign(store, signer, ContractData(emaid, tuple(chain), encrypted, dh), faults), signer


def _fitting_iso(namespace: str, leaf_der: bytes, field: str) -> str:
    """The ISO part of the namespace, which the contract certificate's key must be of."""
    iso = iso_part(namespace) or "2"
    key_iso = iso_part_of_key(x509.load_der_x509_certificate(leaf_der).public_key())
    if key_iso != iso:
        raise BadRequest(f"xsdMsgDefNamespace: {namespace} asks for ISO 15118-{iso} contract data,"
                         f" but {field} has a key of ISO 15118-{key_iso or '?'} (-2: secp256r1;"
                         " -20: secp521r1 or Ed448)")
    return iso


def _encrypted_key20(data: dict) -> EncryptedContractKey20:
    """The -20 key material of ContractData: the field follows from the encrypted key's
    length (94 bytes SECP521_, 84 X448_EncryptedPrivateKey), the ECDHCurve from the
    DHPublicKey's (133 bytes SECP521, 57 or 56 X448), which must be a point of that curve."""
    name = "contractData.contractSignatureEncryptedPrivateKey"
    encrypted = inputs.base64_bytes(data["contractSignatureEncryptedPrivateKey"], name)
    field = KEY_FIELDS_20.get(len(encrypted))
    if field is None:
        raise BadRequest(f"{name}: an ISO 15118-20 encrypted key is 94 bytes (SECP521) or 84"
                         f" (X448) [V2G20-2499], [V2G20-2502]; got {len(encrypted)}")
    dh = inputs.base64_bytes(data["dHpublickey"], "contractData.dHpublickey")
    curve = DH_CURVES_20.get(len(dh))
    if curve is None or (len(dh) == 57 and dh[0] != 4):
        raise BadRequest("contractData.dHpublickey: an ISO 15118-20 DHPublicKey is 133 bytes"
                         " (SECP521, 04 || X || Y) or 57 (X448, 04 || u; the bare 56 is read too)"
                         f" [V2G20-2489]; got {len(dh)}")
    if curve is EcdhCurve.SECP521:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), dh)
        except ValueError:
            raise BadRequest("contractData.dHpublickey: is not a secp521r1 point") from None
    return EncryptedContractKey20(curve, dh, field, encrypted)


def sign_contract_data(store: Store, who: Principal, body: object, faults: Faults) -> dict:
    """signContractData (MO with its own PKI); pooled when a PCID is given."""
    body, signed, signer = _checked_and_signed(store, who, body, faults, "signContractData")
    pcid = body.get("pcid")
    if pcid is not None:
        _pcid_in_pool(store, pcid)
        with store.tx() as db:
            ccp.put(db, signed, pcid, who.client_id, faults)
    return _answer(signed, pcid, signer)


def create_signed(store: Store, who: Principal, body: object, faults: Faults) -> dict:
    """createSignedContractData (deprecated): signs, stores nothing (the MO may pool it)."""
    body, signed, signer = _checked_and_signed(store, who, body, faults,
                                               "createSignedContractData")
    return _answer(signed, body["pcid"], signer)


def create_and_forward(store: Store, who: Principal, body: object, faults: Faults) -> dict:
    """createAndForwardSignedContractData (deprecated): signs and pools. The spec declares no
    404 here, so a PCID the PCP does not hold is a 400."""
    body, signed, _ = _checked_and_signed(store, who, body, faults,
                                          "createAndForwardSignedContractData")
    try:
        _pcid_in_pool(store, body["pcid"])
    except NotFound as exc:
        raise BadRequest(*exc.messages) from None
    with store.tx() as db:
        ccp.put(db, signed, body["pcid"], who.client_id, faults)
    return {}


def _instant(body: dict, field: str) -> dt.datetime:
    value = body[field]
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise BadRequest(f"{field}: must be an RFC 3339 date-time") from None
    if when.tzinfo is None:
        raise BadRequest(f"{field}: must be an RFC 3339 date-time with a time zone")
    return when.astimezone(dt.UTC)


def _mo_sub2(store: Store, iso: str = "2") -> str:
    profile = "v2g_mo_sub2" if iso == "2" else "v2g_mo_sub2_20"
    row = store.query_one("SELECT name FROM ca WHERE profile = ? AND key_sealed IS NOT NULL"
                          " ORDER BY name", (profile,))
    if row is None:
        raise NotFound(f"cps: the reference holds no ISO 15118-{iso} V2G-derived MO Sub-CA 2")
    return row["name"]


def generate(store: Store, who: Principal, body: object, faults: Faults) -> dict:
    """generateSignedContractData (MO using the V2G PKI): issue, encrypt, sign, pool."""
    body = inputs.body_of(body, "generateSignedContractData")
    namespace = inputs.namespace(body["xsdMsgDefNamespace"])
    emaid = inputs.emaid(body["emaid"])
    pcid = inputs.pcid(body["pcid"])
    ownership.check(who, "generateSignedContractData", emaid, faults)
    begins, ends = _instant(body, "contractBegins"), _instant(body, "contractEnds")
    if ends <= begins:
        raise BadRequest("contractEnds: must be after contractBegins")
    if ends <= dt.datetime.now(dt.UTC):
        raise BadRequest("contractEnds: must be in the future")
    prov = _pcid_in_pool(store, pcid)
    iso = _fitting_iso(namespace, bytes(prov["leaf_der"]), f"the provisioning certificate of {pcid}")
    trusted = frozenset() if faults.on("cps-ignores-vehicle-roots") else vehicle_root_keys(prov)
    signer = pick_signer(store, body.get("cpsV2GRootCertificateFingerprint"), trusted, iso=iso,
                         faults=faults)
    sub2_name = _mo_sub2(store, iso)
    issuer = pki.issuer_for_signing(store, sub2_name)
    key = new_key() if iso == "2" else ec.generate_private_key(ec.SECP521R1())
    leaf = issue("contract_leaf" if iso == "2" else "contract_leaf_20", emaid, issuer, key=key,
                 ocsp_url=pki.ocsp_url(store), not_before=begins, not_after=ends)
    cas = pki.chain_of(store, sub2_name)[:-1]  # Sub-CA 2, Sub-CA 1
    chain = [leaf.der, *(_der(c) for c in cas)]
    contract: ContractData | ContractData20
    if iso == "20":
        # The AAD binds the key to the PCID; the fault binds it to another one.
        aad_pcid = pcid[:-1] + ("0" if pcid[-1] != "0" else "1") \
            if faults.on("cps-20-wrong-aad") else None
        try:
            contract = encrypt_for_vehicle20(key, bytes(prov["leaf_der"]), pcid, chain,
                                             aad_pcid=aad_pcid)
        except ContractDataError as exc:
            raise BadRequest(f"pcid: the contract key cannot be encrypted for {pcid}: {exc}") from None
    else:
        contract = encrypt_for_vehicle(key, bytes(prov["leaf_der"]), emaid, chain)
    signed = _sign(store, signer, contract, faults)
    with store.tx() as db:
        ccp.put(db, signed, pcid, who.client_id, faults, issuer_ca=sub2_name)
        db.execute("INSERT INTO issued_certs (issuer_name, serial_hex, der, subject_cn,"
                   " issued_at, client_id) VALUES (?,?,?,?,?,?)",
                   (sub2_name, format(leaf.cert.serial_number, "x"), leaf.der, emaid,
                    dt.datetime.now(dt.UTC).isoformat(), who.client_id))
    return _answer(signed, pcid, signer)
