"""The certificate trust list (CTL) of an ecosystem: its format, signature and verification.

rcp.v1.json's `GET /v1/root/ctl` answers `{signerCertificate, timeStamp, CTL}` and leaves the
CTL object open ("the exact body needs to be aligned by the stakeholders"). This module fixes
it as the format `opcp-ctl/1` (docs/ctl.md; erratum E-RCP-CTL), after the trust lists in use:
a sequence number and this/next update as in Microsoft's CTL and ETSI TS 119 612 trusted
lists, the roots named by their SHA-256 fingerprint and carried whole (as the SAE EVPKI CTL
carries its member roots), a JSON body signed over a canonical form (as ETSI TS 119 602 lists
are JSON under a JWS):

    {"signerCertificate": "<base64 DER>", "timeStamp": "<RFC 3339 UTC, = thisUpdate>",
     "CTL": {"format": "opcp-ctl/1", "issuer": "<ecosystem name>", "sequenceNumber": 7,
             "thisUpdate": "...Z", "nextUpdate": "...Z",
             "signerChain": ["<base64 DER>", ...],   # between the signer and its root
             "trustedRoots": [{"rootType": "V2G", "fingerprintSha256": "<hex>",
                               "subject": "<DN>", "notAfter": "...Z",
                               "certificate": "<base64 DER>",
                               "crossCertificates": ["<base64 DER>", ...]}],   # optional
             "signature": {"algorithm": "ecdsa-with-SHA256", "value": "<base64>"}}}

Signed bytes: the canonical JSON (`canonical`: keys sorted, no white space, UTF-8, integers
and strings only) of the whole document with `CTL.signature` left out, so the signer
certificate and the time stamp are covered too. The signature is the signer key's: ECDSA
(DER) with SHA-256 on P-256 / SHA-512 on P-521, or Ed448.

The signer certificate has keyUsage digitalSignature and the extendedKeyUsage trust-list
signing OID (1.3.6.1.4.1.311.10.3.1, the OID Windows CTLs are signed under) and chains to a
V2G root: one the relying party already holds (`anchors`), or else one the CTL lists itself
(which proves integrity but not origin: `VerifiedCtl.anchored_by` says which it was).

`verify` raises `CtlError(field, rule, detail)` at the first broken rule (`RULES`); it
reads bytes and objects only, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from v2g.errors import FieldRuleError
from v2g.pki.algorithms import Algorithm, PrivateKey, algorithm_of, new_private_key, sign_hash
from v2g.pki.builder import Issued, key_identifier
from v2g.pki.certinfo import CertParseError, display_dn, read_cert
from v2g.pki.validate import verify_signed_by

__all__ = ["CTL_FORMAT", "CTL_SIGNING_OID", "ROOT_TYPES", "RULES", "CtlError", "CtlRoot",
           "VerifiedCtl", "build", "canonical", "differences", "issue_signer", "verify"]

CTL_FORMAT = "opcp-ctl/1"
CTL_SIGNING_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.1")  # szOID_KP_CTL_USAGE_SIGNING
ROOT_TYPES = ("V2G", "MO", "OEM", "PE")
SKEW = dt.timedelta(minutes=5)
SIGNER_DAYS = 365

RULES: dict[str, str] = {
    "ctl.shape": "the document has signerCertificate, timeStamp and the CTL object with its members",
    "ctl.format": f"CTL.format is {CTL_FORMAT}",
    "ctl.sequence": "CTL.sequenceNumber is a positive integer, higher than any seen before",
    "ctl.time": "timeStamp equals CTL.thisUpdate, which is not in the future and precedes nextUpdate",
    "ctl.stale": "the CTL's nextUpdate has not passed",
    "root.certificate": "each listed root is a parseable self-signed CA certificate",
    "root.fingerprint": "fingerprintSha256 is the SHA-256 of the listed certificate",
    "root.facts": "rootType is V2G, MO, OEM or PE; subject and notAfter match the certificate",
    "root.unique": "no root is listed twice",
    "cross.certificate": "each cross-certificate is a CA certificate for the root it is listed on"
                         " or issued by it, signed by a listed root",
    "signer.certificate": "signerCertificate and signerChain are parseable certificates",
    "signer.usage": "the signer has keyUsage digitalSignature and the trust-list signing EKU",
    "signer.chain": "the signer chains, through signerChain, to a trusted V2G root",
    "signer.validity": "the signer and its chain are valid at thisUpdate",
    "signature.algorithm": "the signature algorithm is the signer key's",
    "signature.value": "the signature verifies over the canonical document",
}


class CtlError(FieldRuleError):
    """A CTL broke a rule of `RULES`."""

    prefix = "CTL "


@dataclass(frozen=True)
class CtlRoot:
    root_type: str
    certificate: x509.Certificate
    cross_certificates: tuple[x509.Certificate, ...] = ()

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(Encoding.DER)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


@dataclass
class VerifiedCtl:
    sequence: int
    issuer: str
    this_update: dt.datetime
    next_update: dt.datetime
    roots: list[CtlRoot]
    signer: x509.Certificate
    anchor: x509.Certificate
    anchored_by: str  # "pinned": an anchor the relying party holds; "listed": one of the CTL's
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- canonical form

def _check_canonical(value: object, where: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_canonical(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CtlError(where, "ctl.shape", "object keys are strings")
            _check_canonical(v, f"{where}.{k}")
        return
    raise CtlError(where, "ctl.shape", f"{type(value).__name__} has no canonical form here"
                   " (strings, integers, booleans, null, lists and objects only)")


def canonical(value: object) -> bytes:
    """The canonical JSON bytes: sorted keys, no white space, UTF-8 (no floats allowed)."""
    _check_canonical(value, "document")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                      ).encode("utf-8")


def _signed_part(document: dict) -> dict:
    return {**document, "CTL": {k: v for k, v in document["CTL"].items() if k != "signature"}}


# ----------------------------------------------------------------------------- issuing

def _z(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


_ALGORITHM_NAMES = {Algorithm.SECP256R1: "ecdsa-with-SHA256",
                    Algorithm.SECP521R1: "ecdsa-with-SHA512", Algorithm.ED448: "Ed448"}


def issue_signer(root: Issued, name: str, *, now: dt.datetime | None = None,
                 days: int = SIGNER_DAYS) -> tuple[x509.Certificate, PrivateKey]:
    """A CTL signer certificate and its key under ``root`` (a V2G root with its key), on the
    root's algorithm."""
    if root.key is None:
        raise CtlError("signer", "signer.chain", "the root's private key is not held")
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=1)
    end = min(start + dt.timedelta(days=days), root.cert.not_valid_after_utc)
    alg = algorithm_of(root.key)
    assert alg is not None
    key = new_private_key(alg)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Test PKI"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_ski = root.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                     False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([CTL_SIGNING_OID]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier(key_identifier(key.public_key())),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(issuer_ski.value.digest, None, None),
                       critical=False)
        .sign(root.key, sign_hash(root.key))  # type: ignore[arg-type]
    )
    return cert, key


def _sign(key: object, data: bytes) -> bytes:
    if isinstance(key, ed448.Ed448PrivateKey):
        return key.sign(data)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.sign(data, ec.ECDSA(sign_hash(key)))  # type: ignore[arg-type]


def build(roots: Iterable[CtlRoot], *, sequence: int, issuer: str,
          signer: tuple[x509.Certificate, PrivateKey],
          signer_chain: Sequence[x509.Certificate] = (), this_update: dt.datetime,
          next_update: dt.datetime) -> dict:
    """The signed CTL document (the body of `GET /v1/root/ctl`)."""
    signer_cert, signer_key = signer
    listed = []
    for root in sorted(roots, key=lambda r: (r.root_type, r.fingerprint)):
        entry = {"rootType": root.root_type, "fingerprintSha256": root.fingerprint,
                 "subject": display_dn(root.certificate.subject),
                 "notAfter": _z(root.certificate.not_valid_after_utc),
                 "certificate": _b64(root.certificate)}
        if root.cross_certificates:
            entry["crossCertificates"] = [_b64(c) for c in root.cross_certificates]
        listed.append(entry)
    alg = algorithm_of(signer_key)
    assert alg is not None
    document = {
        "signerCertificate": _b64(signer_cert),
        "timeStamp": _z(this_update),
        "CTL": {"format": CTL_FORMAT, "issuer": issuer, "sequenceNumber": sequence,
                "thisUpdate": _z(this_update), "nextUpdate": _z(next_update),
                "signerChain": [_b64(c) for c in signer_chain], "trustedRoots": listed},
    }
    value = _sign(signer_key, canonical(document))
    document["CTL"]["signature"] = {"algorithm": _ALGORITHM_NAMES[alg],
                                    "value": base64.b64encode(value).decode()}
    return document


# ----------------------------------------------------------------------------- verifying

def _member(obj: dict, name: str, kind: type, where: str) -> object:
    value = obj.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        what = {str: "a string", int: "an integer", list: "a list", dict: "an object"}[kind]
        raise CtlError(f"{where}{name}", "ctl.shape", f"must be {what}")
    return value


def _cert(text: object, where: str, rule: str) -> x509.Certificate:
    if not isinstance(text, str):
        raise CtlError(where, rule, "must be a base64 DER certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise CtlError(where, rule, f"is not a base64 DER certificate ({exc})") from None


def _time(text: str, where: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CtlError(where, "ctl.time", f"{text!r} is not an RFC 3339 date-time") from None
    if when.tzinfo is None:
        raise CtlError(where, "ctl.time", "must carry a time zone (Z)")
    return when.astimezone(dt.UTC)


def _roots(ctl: dict) -> list[CtlRoot]:
    out: list[CtlRoot] = []
    seen: set[str] = set()
    for i, entry in enumerate(_member(ctl, "trustedRoots", list, "CTL.")):  # type: ignore[arg-type]
        where = f"CTL.trustedRoots[{i}]."
        if not isinstance(entry, dict):
            raise CtlError(where[:-1], "ctl.shape", "must be an object")
        cert = _cert(entry.get("certificate"), where + "certificate", "root.certificate")
        try:
            info = read_cert(cert)
        except CertParseError as exc:
            raise CtlError(where + "certificate", "root.certificate", exc.detail) from None
        if not (info.self_signed and info.is_ca):
            raise CtlError(where + "certificate", "root.certificate",
                           f"{info.subject} is not a self-signed CA certificate")
        fingerprint = _member(entry, "fingerprintSha256", str, where)
        if str(fingerprint).lower() != info.fingerprint:
            raise CtlError(where + "fingerprintSha256", "root.fingerprint",
                           f"{fingerprint} but the certificate's SHA-256 is {info.fingerprint}")
        root_type = _member(entry, "rootType", str, where)
        if root_type not in ROOT_TYPES:
            raise CtlError(where + "rootType", "root.facts", f"{root_type!r} is not one of"
                           f" {', '.join(ROOT_TYPES)}")
        if _member(entry, "subject", str, where) != info.subject_dn:
            raise CtlError(where + "subject", "root.facts",
                           f"{entry['subject']!r} but the certificate says {info.subject_dn!r}")
        if _time(str(_member(entry, "notAfter", str, where)), where + "notAfter") != \
                info.not_after.replace(microsecond=0):
            raise CtlError(where + "notAfter", "root.facts",
                           f"{entry['notAfter']} but the certificate ends {_z(info.not_after)}")
        if info.fingerprint in seen:
            raise CtlError(where + "fingerprintSha256", "root.unique",
                           f"{info.fingerprint} is listed twice")
        seen.add(info.fingerprint)
        cross = entry.get("crossCertificates", [])
        if not isinstance(cross, list):
            raise CtlError(where + "crossCertificates", "ctl.shape", "must be a list")
        certs = tuple(_cert(c, f"{where}crossCertificates[{j}]", "cross.certificate")
                      for j, c in enumerate(cross))
        out.append(CtlRoot(str(root_type), cert, certs))
    return out


def _check_cross(roots: list[CtlRoot]) -> None:
    by_subject: dict[x509.Name, list[x509.Certificate]] = {}
    for r in roots:
        by_subject.setdefault(r.certificate.subject, []).append(r.certificate)
    for i, root in enumerate(roots):
        for j, cross in enumerate(root.cross_certificates):
            where = f"CTL.trustedRoots[{i}].crossCertificates[{j}]"
            info = read_cert(cross)
            if not info.is_ca or info.self_issued:
                raise CtlError(where, "cross.certificate", "is not a CA certificate between two"
                               " roots (cA TRUE, issuer other than subject)")
            if root.certificate.subject not in (cross.subject, cross.issuer):
                raise CtlError(where, "cross.certificate", f"neither issued to nor by the root it"
                               f" is listed on ({display_dn(root.certificate.subject)})")
            issuers = by_subject.get(cross.issuer, [])
            if not any(verify_signed_by(cross, c.public_key()) for c in issuers):
                raise CtlError(where, "cross.certificate", f"not signed by a listed root named"
                               f" {info.issuer_dn}")


def verify(document: object, *, anchors: Sequence[x509.Certificate] = (),
           at: dt.datetime | None = None, min_sequence: int | None = None) -> VerifiedCtl:
    """Check a CTL document against every rule of `RULES`.

    ``anchors``: V2G roots the relying party holds; the signer must chain to one of them.
    Without anchors the signer must chain to a V2G root the CTL lists (``anchored_by`` is
    then "listed"). ``min_sequence``: a sequence number seen before (a replayed older CTL
    is refused)."""
    now = at or dt.datetime.now(dt.UTC)
    if not isinstance(document, dict):
        raise CtlError("document", "ctl.shape", "must be a JSON object")
    ctl = _member(document, "CTL", dict, "")
    assert isinstance(ctl, dict)
    signer = _cert(document.get("signerCertificate"), "signerCertificate", "signer.certificate")
    stamp = _time(str(_member(document, "timeStamp", str, "")), "timeStamp")
    if ctl.get("format") != CTL_FORMAT:
        raise CtlError("CTL.format", "ctl.format", f"{ctl.get('format')!r}, not {CTL_FORMAT!r}")
    _member(ctl, "issuer", str, "CTL.")
    sequence = _member(ctl, "sequenceNumber", int, "CTL.")
    assert isinstance(sequence, int)
    if sequence < 1:
        raise CtlError("CTL.sequenceNumber", "ctl.sequence", f"{sequence} is not positive")
    if min_sequence is not None and sequence < min_sequence:
        raise CtlError("CTL.sequenceNumber", "ctl.sequence",
                       f"{sequence} is older than the {min_sequence} seen before (a replay?)")
    this_update = _time(str(_member(ctl, "thisUpdate", str, "CTL.")), "CTL.thisUpdate")
    next_update = _time(str(_member(ctl, "nextUpdate", str, "CTL.")), "CTL.nextUpdate")
    if stamp != this_update:
        raise CtlError("timeStamp", "ctl.time", f"{_z(stamp)} but CTL.thisUpdate is"
                       f" {_z(this_update)}")
    if this_update > now + SKEW:
        raise CtlError("CTL.thisUpdate", "ctl.time", f"{_z(this_update)} is in the future")
    if next_update <= this_update:
        raise CtlError("CTL.nextUpdate", "ctl.time", "must be after thisUpdate")
    if now > next_update:
        raise CtlError("CTL.nextUpdate", "ctl.stale", f"passed at {_z(next_update)}: fetch a"
                       " newer CTL")
    chain = [_cert(c, f"CTL.signerChain[{i}]", "signer.certificate")
             for i, c in enumerate(_member(ctl, "signerChain", list, "CTL."))]  # type: ignore[arg-type]
    roots = _roots(ctl)
    _check_cross(roots)

    info = read_cert(signer)
    if info.key_usage is None or "digital_signature" not in info.key_usage:
        raise CtlError("signerCertificate", "signer.usage", "keyUsage lacks digitalSignature")
    if CTL_SIGNING_OID.dotted_string not in info.eku:
        raise CtlError("signerCertificate", "signer.usage", "extendedKeyUsage lacks the"
                       f" trust-list signing OID {CTL_SIGNING_OID.dotted_string}")
    anchor, anchored_by = _chain_to_anchor(signer, chain, roots, anchors)
    for where, cert in [("signerCertificate", signer),
                        *((f"CTL.signerChain[{i}]", c) for i, c in enumerate(chain)),
                        ("anchor", anchor)]:
        if not cert.not_valid_before_utc <= this_update <= cert.not_valid_after_utc:
            raise CtlError(where, "signer.validity", f"not valid at thisUpdate {_z(this_update)}")

    signature = _member(ctl, "signature", dict, "CTL.")
    assert isinstance(signature, dict)
    alg = algorithm_of(signer.public_key())
    name = _ALGORITHM_NAMES.get(alg) if alg is not None else None
    if name is None or signature.get("algorithm") != name:
        raise CtlError("CTL.signature.algorithm", "signature.algorithm",
                       f"{signature.get('algorithm')!r}; the signer's key signs {name}")
    try:
        value = base64.b64decode(str(_member(signature, "value", str, "CTL.signature.")),
                                 validate=True)
    except binascii.Error:
        raise CtlError("CTL.signature.value", "signature.value", "is not base64") from None
    if not _verifies(signer.public_key(), value, canonical(_signed_part(document))):
        raise CtlError("CTL.signature.value", "signature.value",
                       "does not verify over the canonical document with the signer's key")
    warnings = []
    if anchored_by == "listed":
        warnings.append("anchored in a V2G root the CTL lists itself: integrity is proven, origin"
                        " only if that root is one you trust (pin it with an anchor)")
    return VerifiedCtl(sequence, str(ctl["issuer"]), this_update, next_update, roots, signer,
                       anchor, anchored_by, warnings)


def _verifies(key: object, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, ed448.Ed448PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            digest = hashes.SHA512() if key.curve.name == "secp521r1" else hashes.SHA256()
            key.verify(signature, data, ec.ECDSA(digest))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _chain_to_anchor(signer: x509.Certificate, chain: list[x509.Certificate],
                     roots: list[CtlRoot], anchors: Sequence[x509.Certificate]
                     ) -> tuple[x509.Certificate, str]:
    path = [signer, *chain]
    for pos in range(len(path) - 1):
        child, parent = path[pos], path[pos + 1]
        if child.issuer != parent.subject or not verify_signed_by(child, parent.public_key()):
            raise CtlError(f"CTL.signerChain[{pos}]", "signer.chain",
                           f"{display_dn(child.issuer)} did not issue the certificate before it")
        if not read_cert(parent).is_ca:
            raise CtlError(f"CTL.signerChain[{pos}]", "signer.chain", "is not a CA certificate")
    top = path[-1]
    pinned = list(anchors)
    candidates = pinned or [r.certificate for r in roots if r.root_type == "V2G"]
    for anchor in candidates:
        if anchor.subject == top.issuer and verify_signed_by(top, anchor.public_key()):
            return anchor, "pinned" if pinned else "listed"
    where = "pinned anchors" if pinned else "V2G roots the CTL lists"
    raise CtlError("signerCertificate", "signer.chain",
                   f"issued by {display_dn(top.issuer)}, which is none of the {where}")


def differences(verified: VerifiedCtl, pool: Iterable[tuple[str, str]]) -> list[str]:
    """How the CTL's roots differ from a pool's (fingerprint, rootType) pairs; [] when equal."""
    listed = {r.fingerprint: r.root_type for r in verified.roots}
    held = {f.replace(":", "").lower(): t for f, t in pool}
    out = [f"{f} ({t}) is in the pool but not in the CTL" for f, t in held.items()
           if f not in listed]
    out += [f"{f} ({t}) is in the CTL but not in the pool" for f, t in listed.items()
            if f not in held]
    out += [f"{f} is {held[f]} in the pool but {t} in the CTL" for f, t in listed.items()
            if f in held and held[f] != t]
    return sorted(out)
