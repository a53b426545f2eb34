"""EST (RFC 7030) enrollment and CA distribution of the reference's V2G PKI
(docs/components/05, reference/est.v1.json).

`simpleenroll` certifies the key of a base64 PKCS#10 request from the Sub-CA 2 of the
requested CA, after checking the request's signature, its key and its CN: the identifier of
that CA's leaves (EVSE or SECC ID for `cpo`, EMAID for `mo`, PCID for `oem`/`veh`) and, where
the credential names a scope, within it (EMAID prefix of an MO, WMI of an OEM; INTEROP item
8). CPO credentials carry no operator ID in this reference, so a CPO's CN is checked for its
format only.

The `{iso-version}` segment selects the profiles. `ISO15118-2`: secp256r1 keys, the -2
profiles and CAs (as before -20 support; `veh` then issues the -2 provisioning profile).
`ISO15118-20`: the request's key selects the -20 hierarchy, secp521r1 ([V2G20-2674]) or
Ed448 ([V2G20-2319]), and the leaf gets that hierarchy's -20 profile (`veh`: the -20
vehicle certificate); a secp256r1 key is refused. An Ed448 `oem` request carries the
vehicle's X448 ECDHE key as a requested subjectAltPublicKeyInfo extension (2.5.29.72, in the
PKCS#9 extensionRequest attribute; [V2G20-2534]), which the issued certificate repeats: a
request without it, or with a key other than X448 there, is 400 naming
`csr.extensionRequest` and the rule. Every other CA and algorithm (the -20 vehicle
certificate of `veh`, secp521r1 provisioning certificates, whose own key is the ECDHE key by
[V2G20-2533], and all of ISO15118-2) refuses the extension the same way rather than drop it.
Nothing is recorded for a refused request.
cacerts' `{algorithm}` segment selects the chain: secp256r1 for ISO15118-2, secp521r1 or
ed448 for ISO15118-20; the other combinations are 404.

Both answers are PKCS#7 certs-only in base64 with line breaks every 64 characters, as RFC
7030 section 4.1.3 / 4.2.3 send them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x448
from cryptography.hazmat.primitives.serialization import pkcs7

from opcp.access import EST_PREFIXED_CAS
from opcp.errors import BadRequest, Forbidden, NotFound
from opcp_reference.domain import pki
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g import ids
from v2g.pki.algorithms import Algorithm, algorithm_of
from v2g.pki.builder import CertRequest, ProfileError, check_subject_cn, issue_request, read_request
from v2g.pki.profiles import Profile, profile_name
from v2g.pki.profiles import profile as _profile

ISO_VERSIONS = ("ISO15118-2", "ISO15118-20")
ALGORITHMS = ("secp256r1", "secp521r1", "ed448")  # est.v1.json's enum
# The algorithms each ISO part has CAs for here.
OFFERED_ALGORITHMS = {"ISO15118-2": ("secp256r1",), "ISO15118-20": ("secp521r1", "ed448")}


def default_algorithm(iso_version: str) -> str:
    """The curve of a CA when a client names none: the first this ecosystem offers for the ISO
    version (an unknown version falls back to -2's, and is refused by the call it reaches)."""
    return OFFERED_ALGORITHMS.get(iso_version, OFFERED_ALGORITHMS["ISO15118-2"])[0]
_PREFIX_20 = {Algorithm.SECP521R1: "p521", Algorithm.ED448: "ed448"}
PKCS7_CONTENT_TYPE = "application/pkcs7-mime; smime-type=certs-only"
MAX_CSR = 8 * 1024


@dataclass(frozen=True)
class EstCa:
    issuer: str  # name of the Sub-CA 2 in the reference's PKI
    profile: str  # the profile of the leaves it issues
    scope: str | None  # "emaid" or "wmi": which credential attribute bounds the CN


ROOT_PREFIX = "v2g1"  # the V2G root of the unprefixed CAs

CAS: dict[str, EstCa] = {
    "cpo": EstCa("v2g1.cpo.sub2", "secc_leaf", None),
    "mo": EstCa("v2g1.mo.sub2", "contract_leaf", "emaid"),
    "oem": EstCa("v2g1.oem.sub2", "oem_prov_leaf", "wmi"),
    "veh": EstCa("v2g1.oem.sub2", "oem_prov_leaf", "wmi"),
    "cps": EstCa("v2g1.cps.sub2", "cps_leaf", None),
}

# ISO 15118-20: the Sub-CA 2 (after the algorithm's prefix, opcp_reference.domain.pki) and
# the place of the leaf; `veh` issues the -20 vehicle certificate.
CAS_20: dict[str, EstCa] = {
    "cpo": EstCa("cpo.sub2", "secc_leaf", None),
    "mo": EstCa("mo.sub2", "contract_leaf", "emaid"),
    "oem": EstCa("oem.sub2", "oem_prov_leaf", "wmi"),
    "veh": EstCa("oem.sub2", "vehicle_leaf", "wmi"),
    "cps": EstCa("cps.sub2", "cps_leaf", None),
}


def _est_ca_20(ca: str, algorithm: Algorithm) -> EstCa:
    base = CAS_20[ca]
    return EstCa(f"{_PREFIX_20[algorithm]}.{base.issuer}", profile_name(base.profile, algorithm),
                 base.scope)


def _check_iso_version(value: str) -> None:
    if value not in ISO_VERSIONS:
        raise BadRequest(f"iso-version: must be one of {', '.join(ISO_VERSIONS)}")


def _est_ca(ca: str, faults: Faults | None = None) -> EstCa:
    """The CA `ca` names: `cpo`, or prefixed with the V2G root it issues under, `v2g2-cpo`
    (est.v1.json's pattern ^(\\w+-)?(cpo|mo|oem|cps|veh)$; docs/ecosystems.md)."""
    prefix, _, base = ca.rpartition("-")
    try:
        found = CAS[base]
    except KeyError:
        named = ", ".join(f"{p}-{c}" for p, cs in EST_PREFIXED_CAS.items() for c in cs)
        raise BadRequest(f"ca: must be one of {', '.join(CAS)}, optionally prefixed with a"
                         f" V2G root ({named})") from None
    if not prefix:
        return found
    if base not in EST_PREFIXED_CAS.get(prefix, ()):
        raise NotFound(f"ca: this ecosystem has no {base} CA under the V2G root {prefix}")
    if faults is not None and faults.on("est-prefix-ignored"):
        return found
    return EstCa(found.issuer.replace(ROOT_PREFIX + ".", prefix + ".", 1), found.profile,
                 found.scope)


def read_csr(body: bytes) -> x509.CertificateSigningRequest:
    """A PKCS#10 request from base64 (line breaks tolerated), PEM or raw DER."""
    # Raw DER may end in bytes that look like white space: only text forms are stripped.
    raw = body.lstrip()
    if raw[:1] != b"\x30":
        raw = raw.rstrip()
    if not raw:
        raise BadRequest("body: a base64 PKCS#10 certificate signing request is required")
    if len(raw) > MAX_CSR:
        raise BadRequest(f"body: longer than {MAX_CSR} bytes; a CSR is a few hundred")
    try:
        if raw.startswith(b"-----BEGIN"):
            return x509.load_pem_x509_csr(raw)
        der = raw
        if raw[:1] != b"\x30":
            try:
                der = base64.b64decode(b"".join(raw.split()), validate=True)
            except (binascii.Error, ValueError):
                raise BadRequest("body: is not base64 (a PKCS#10 request in base64 is"
                                 " expected)") from None
        return x509.load_der_x509_csr(der)
    except ValueError:
        raise BadRequest("body: is not a DER PKCS#10 certificate signing request") from None


def _cn_of(csr: x509.CertificateSigningRequest) -> str:
    try:
        cns = csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    except ValueError:
        cns = []
    if not cns:
        raise BadRequest("csr.subject: has no CN")
    return str(cns[0].value)


def _check_scope(est_ca: EstCa, cn: str, who: Principal) -> None:
    if est_ca.scope == "emaid":
        mine = {p.upper() for p in who.emaid_prefixes}
        if ids.emaid_prefix(cn) not in mine:
            raise Forbidden(f"csr.subject CN: EMAID {cn} is not of this client's provider"
                            f" prefixes ({', '.join(sorted(mine)) or 'none'})")
    elif est_ca.scope == "wmi":
        mine = {w.upper() for w in who.wmis}
        if ids.pcid_wmi(cn) not in mine:
            raise Forbidden(f"csr.subject CN: PCID {cn} is not of this client's WMIs"
                            f" ({', '.join(sorted(mine)) or 'none'})")


def enroll(store: Store, who: Principal, ca: str, iso_version: str, body: bytes,
           faults: Faults) -> tuple[str, x509.Certificate]:
    """simpleenroll: the issued certificate as base64 PKCS#7 certs-only, and the certificate."""
    est_ca = _est_ca(ca, faults)
    _check_iso_version(iso_version)
    csr = read_csr(body)
    try:
        signature_ok = csr.is_signature_valid
        key = csr.public_key()
    except Exception:  # noqa: BLE001 - unsupported algorithms raise several types
        raise BadRequest("csr: its key or signature algorithm cannot be read") from None
    if not signature_ok:
        raise BadRequest("csr: the request's signature does not verify with its own key")
    if iso_version == "ISO15118-20":
        if "-" in ca:
            raise NotFound(f"ca: the V2G root CAs ({ca}) issue ISO15118-2 certificates only")
        alg = algorithm_of(key)
        if alg not in _PREFIX_20:
            raise BadRequest("csr.publicKey: ISO15118-20 certificates have secp521r1 keys"
                             " ([V2G20-2674]) or Ed448 keys ([V2G20-2319]), not"
                             f" {alg.value if alg else type(key).__name__}")
        est_ca = _est_ca_20(ca, alg)
    elif not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
        raise BadRequest("csr.publicKey: must be an EC key on secp256r1 (P-256)")
    prof = _profile(est_ca.profile)
    try:
        cn = check_subject_cn(prof, _cn_of(csr))
    except ProfileError as exc:
        raise BadRequest(f"csr.subject CN: {exc.detail} (a {ca} leaf's CN is"
                         f" {_cn_rule_words(prof.cn_rule.value)})") from None
    if not faults.on("est-skip-cn-check"):
        _check_scope(est_ca, cn, who)
    request = _read_request(prof, csr, cn, faults)
    issuer = pki.issuer_for_signing(store, est_ca.issuer)
    try:
        issued = issue_request(prof, request, issuer, ocsp_url=pki.ocsp_url(store))
    except ProfileError as exc:
        raise BadRequest(f"{exc.field}: {exc.detail} [{exc.rule}]") from None
    pki.record_issued(store, est_ca.issuer, issued.cert, who.client_id)
    return certs_only([issued.cert]), issued.cert


def _read_request(prof: Profile, csr: x509.CertificateSigningRequest, cn: str,
                  faults: Faults) -> CertRequest:
    """The request's key, CN and alternate key as the profile allows them; a refusal is 400
    naming the part of the request (`csr.extensionRequest` for the X448 key) and the rule."""
    try:
        request = read_request(prof, csr)
    except ProfileError as exc:
        if exc.rule == "csr.alt_key" and faults.on("est-20-alt-key-optional"):
            # The fault: a CA that makes up the X448 key nobody holds instead of refusing.
            return CertRequest(cn, csr.public_key(), x448.X448PrivateKey.generate().public_key(),
                               None)
        raise BadRequest(f"{exc.field}: {exc.detail} [{exc.rule}]") from None
    if request.alt_public_key is not None and faults.on("est-20-alt-key-replaced"):
        return replace(request, alt_public_key=x448.X448PrivateKey.generate().public_key())
    return request


def _cn_rule_words(rule: str) -> str:
    return {"emaid": "an EMAID", "pcid": "a PCID", "evse_or_secc": "an EVSE ID or a SECC ID",
            "free": "free text"}[rule]


def ca_certs(store: Store, ca: str, iso_version: str, algorithm: str) -> str:
    """cacerts: the CA's chain (Sub-CA 2, Sub-CA 1, root) as base64 PKCS#7 certs-only."""
    est_ca = _est_ca(ca)
    _check_iso_version(iso_version)
    if algorithm not in ALGORITHMS:
        raise BadRequest(f"algorithm: must be one of {', '.join(ALGORITHMS)}")
    if algorithm not in OFFERED_ALGORITHMS[iso_version]:
        raise NotFound(f"algorithm: this ecosystem has no {ca} CA for {algorithm} in"
                       f" {iso_version} (it has {', '.join(OFFERED_ALGORITHMS[iso_version])})")
    if iso_version == "ISO15118-20":
        if "-" in ca:
            raise NotFound(f"ca: the V2G root CAs ({ca}) issue ISO15118-2 certificates only")
        est_ca = _est_ca_20(ca, Algorithm(algorithm))
    return certs_only(pki.chain_of(store, est_ca.issuer))


def certs_only(certs: list[x509.Certificate]) -> str:
    der = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    text = base64.b64encode(der).decode()
    return "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n"
