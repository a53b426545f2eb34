"""Chain validation for the ISO 15118-2 and ISO 15118-20 PKIs.

``validate_chain(chain, trust, purpose=..., at=...)`` checks a leaf-first chain of
sub-CA certificates against a trust store and raises :class:`ChainError` on the first
broken rule, naming the certificate (position, 0 = leaf, and subject) and the rule.
What is accepted but deviates from the profile, or from strict DER, is returned as
``findings`` (the "compatibility" verdict axis of the harness), never raised.

Rules (identifiers in ``RULES``; docs/pki.md has the table):

- shell model: every certificate, the trust anchor included, is valid at ``at``;
- each certificate names, and is signed by, the next one; the last one by a trust anchor;
- algorithms: ISO 15118-2 (``iso="2"``, the default) keys are secp256r1 and signatures
  ecdsa-with-SHA256; an ISO 15118-20 chain (``iso="20"``) is of one algorithm throughout,
  leaf, sub-CAs and trust anchor: secp521r1 keys with ecdsa-with-SHA512 signatures
  ([V2G20-2674]) or Ed448 keys and signatures ([V2G20-2319]); a -2 (P-256) certificate in
  a -20 chain is refused with ``algorithm.curve`` naming the requirement;
- issuers are CAs (basicConstraints cA) allowed to sign certificates (keyCertSign when
  keyUsage is present) and their pathLen covers the sub-CAs below them; the leaf is no CA;
- at most two sub-CAs (ISO 15118-2);
- by purpose: the anchor's role (contract: MO or V2G root; provisioning: OEM or V2G;
  CPS and SECC: V2G; -20 vehicle: OEM or V2G), DC values where present, and the leaf CN
  (EMAID, PCID, EVSE/SECC ID).

A trust anchor need not be self-signed (RFC 5280 §6.1.1 (d): a trust anchor is a name
and a key): trusting a Sub-CA 1 validates the part of a chain below it, which is how the
spec's real chains, whose QA roots are not published, are tested.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography import x509

from v2g import ids
from v2g.pki import algorithms
from v2g.pki.algorithms import ISO20_ALGORITHMS, Algorithm, algorithm_of
from v2g.pki.certinfo import CertInfo, CertParseError, load_cert, read_cert
from v2g.pki.profiles import PROFILES, CnRule, Iso, Role, profile_name

__all__ = [
    "RULES",
    "ChainError",
    "ChainResult",
    "Finding",
    "Purpose",
    "TrustAnchor",
    "TrustStore",
    "validate_chain",
    "verify_signed_by",
]

MAX_SUB_CAS = 2

RULES: dict[str, str] = {
    "encoding.unparseable": "the certificate is not a parseable X.509 certificate",
    "encoding.extensions": "the extensions cannot be read even as BER",
    "encoding.fields": "names, key, validity and algorithm can be read",
    "chain.empty": "the chain has no certificate",
    "chain.too_long": f"at most {MAX_SUB_CAS} sub-CA certificates below the trust anchor",
    "chain.name": "the issuer name equals the subject of the next certificate",
    "chain.signature": "the signature verifies with the next certificate's public key",
    "anchor.not_found": "a trust anchor with the issuer's name and key is in the trust store",
    "anchor.untrusted_root": "a self-signed certificate in the chain is a trust anchor",
    "validity.not_yet": "valid at the validation time (notBefore <= time)",
    "validity.expired": "valid at the validation time (time <= notAfter)",
    "algorithm.curve": "the public key is on secp256r1",
    "algorithm.signature": "the signature algorithm is ecdsa-with-SHA256",
    "purpose.iso": "the purpose exists in the chain's ISO 15118 part",
    "ca.flag": "an issuer has basicConstraints cA TRUE",
    "ca.key_usage": "an issuer's keyUsage has keyCertSign",
    "ca.path_len": "the issuer's pathLenConstraint covers the sub-CAs below it",
    "leaf.ca": "the leaf is not a CA",
    "leaf.key_usage": "the leaf's keyUsage has digitalSignature",
    "role.anchor": "the chain ends in a root of a role allowed for the purpose",
    "role.dc": "DC values, where present, match the role",
    "name.cn_missing": "the leaf has a CN",
    "name.emaid": "a contract leaf's CN is an EMAID",
    "name.pcid": "a provisioning leaf's CN is a PCID",
    "name.evse_or_secc": "a SECC leaf's CN is an EVSE ID or SECC ID",
    # findings (compatibility; not errors)
    "compat.non_der": "encoded in BER, not DER; cryptography cannot read its extensions",
    "compat.dc_absent": "the leaf has no DC attribute (the profile puts one)",
    "compat.key_usage_absent": "no keyUsage extension",
    "compat.basic_constraints_absent": "no basicConstraints extension on the leaf",
    "compat.aki_mismatch": "authorityKeyIdentifier differs from the issuer's subjectKeyIdentifier",
    "compat.ocsp_absent": "no OCSP URL in authorityInformationAccess",
    "compat.emaid_check_digit": "15th CN character is not the EMAID check digit",
}


class Purpose(enum.StrEnum):
    CONTRACT = "contract"
    PROVISIONING = "provisioning"
    CPS = "cps"
    SECC = "secc"
    VEHICLE = "vehicle"  # ISO 15118-20 only


@dataclass(frozen=True)
class _PurposeRule:
    leaf_profile: str
    anchors: frozenset[Role]
    sub_roles: tuple[Role, ...]


_PURPOSES: dict[Purpose, _PurposeRule] = {
    Purpose.CONTRACT: _PurposeRule("contract_leaf", frozenset({Role.MO, Role.V2G}), (Role.MO,)),
    Purpose.PROVISIONING: _PurposeRule("oem_prov_leaf", frozenset({Role.OEM, Role.V2G}),
                                       (Role.OEM,)),
    Purpose.CPS: _PurposeRule("cps_leaf", frozenset({Role.V2G}), (Role.CPS,)),
    Purpose.SECC: _PurposeRule("secc_leaf", frozenset({Role.V2G}), (Role.CPO,)),
    Purpose.VEHICLE: _PurposeRule("vehicle_leaf", frozenset({Role.OEM, Role.V2G}), (Role.OEM,)),
}


def _sub_dcs(roles: tuple[Role, ...]) -> frozenset[str]:
    return frozenset().union(*(p.dc_allowed for p in PROFILES.values()
                               if p.role in roles and p.kind.value == "sub"))


@dataclass(frozen=True)
class TrustAnchor:
    cert: x509.Certificate
    role: Role

    @classmethod
    def of(cls, data: bytes | x509.Certificate, role: Role | str | None = None) -> TrustAnchor:
        info = read_cert(data)
        if role is None:
            # Without a declared role, the DC says it; DC=V2G is also what OEM roots in the
            # field carry (the BMW root), so declare OEM/MO roots explicitly where it matters.
            role = {"MO": Role.MO, "OEM": Role.OEM}.get(info.dcs[0] if info.dcs else "", Role.V2G)
        return cls(info.cert, Role(role))


class TrustStore:
    def __init__(self, anchors: Iterable[TrustAnchor | x509.Certificate | bytes] = ()) -> None:
        self.anchors: list[TrustAnchor] = [
            a if isinstance(a, TrustAnchor) else TrustAnchor.of(a) for a in anchors
        ]

    def add(self, cert: bytes | x509.Certificate, role: Role | str | None = None) -> None:
        self.anchors.append(TrustAnchor.of(cert, role))

    def candidates(self, issuer: x509.Name) -> list[TrustAnchor]:
        return [a for a in self.anchors if a.cert.subject == issuer]

    def __contains__(self, cert: object) -> bool:
        return any(a.cert == cert for a in self.anchors)


class ChainError(ValueError):
    """Certificate at ``position`` (0 = leaf; len(chain) = trust anchor) broke ``rule``."""

    def __init__(self, position: int, subject: str, rule: str, detail: str = "") -> None:
        self.position = position
        self.subject = subject
        self.rule = rule
        self.detail = detail or RULES.get(rule, rule)
        super().__init__(f"certificate {position} ({subject}): {self.detail} [{rule}]")


@dataclass(frozen=True)
class Finding:
    position: int
    subject: str
    rule: str
    detail: str


@dataclass
class ChainResult:
    chain: list[CertInfo]  # leaf first, without the anchor
    anchor: TrustAnchor
    purpose: Purpose | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def leaf(self) -> CertInfo:
        return self.chain[0]


# Sub-CAs and anchors recur in every chain a service validates; their parsed view is
# immutable, so keep it (keyed by the certificate, whose equality is its DER).
_read_cached = lru_cache(maxsize=4096)(read_cert)


def _info(item: bytes | x509.Certificate | CertInfo) -> CertInfo:
    if isinstance(item, CertInfo):
        return item
    return _read_cached(load_cert(item))


def verify_signed_by(cert: x509.Certificate, issuer_key: object) -> bool:
    """Whether ``issuer_key`` made ``cert``'s signature, with the signature algorithm of that
    key (ECDSA-SHA256 on P-256, ECDSA-SHA512 on P-521, Ed448)."""
    return algorithms.verify(issuer_key, cert.signature, cert.tbs_certificate_bytes,
                             cert.signature_algorithm_oid)


# Whether `child` is signed by the key of `parent`: a pure function of the two certificates,
# and every chain of an OEM or MO repeats the same sub-CA and anchor links, so a vehicle's
# chain costs one ECDSA check (its leaf's) instead of three.
@lru_cache(maxsize=4096)
def _signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    return verify_signed_by(child, parent.public_key())


def _check_time(pos: int, info: CertInfo, at: dt.datetime) -> None:
    if at < info.cert.not_valid_before_utc:
        raise ChainError(pos, info.subject, "validity.not_yet",
                         f"not valid before {info.cert.not_valid_before_utc.isoformat()}")
    if at > info.cert.not_valid_after_utc:
        raise ChainError(pos, info.subject, "validity.expired",
                         f"expired {info.cert.not_valid_after_utc.isoformat()}")


_ISO20_RULE = {Algorithm.SECP521R1: "[V2G20-2674] secp521r1 with ecdsa-with-SHA512",
               Algorithm.ED448: "[V2G20-2319] Ed448"}


def _check_algorithms(pos: int, info: CertInfo, iso: Iso, chain_alg: Algorithm | None) -> Algorithm:
    """Check one certificate's key and signature algorithm; returns the key's algorithm.

    ``chain_alg`` is the algorithm the certificates before this one have (None for the leaf
    of a -20 chain, which sets it)."""
    found = algorithm_of(info.cert.public_key())
    if iso is Iso.ISO2:
        if found is not Algorithm.SECP256R1:
            raise ChainError(pos, info.subject, "algorithm.curve")
        expected = Algorithm.SECP256R1
    elif chain_alg is None:
        if found not in ISO20_ALGORITHMS:
            raise ChainError(pos, info.subject, "algorithm.curve",
                             "ISO 15118-20 keys are secp521r1 ([V2G20-2674]) or Ed448"
                             f" ([V2G20-2319]); this key is {found.value if found else 'neither'}")
        assert found is not None
        expected = found
    else:
        if found is not chain_alg:
            raise ChainError(pos, info.subject, "algorithm.curve",
                             f"an ISO 15118-20 chain of {_ISO20_RULE[chain_alg]} holds that"
                             f" algorithm throughout; this key is {found.value if found else 'neither'}")
        expected = chain_alg
    # Every certificate of the chain is signed by a key of the chain's algorithm, its anchor
    # included (a -2 root signing a -20 sub-CA is refused here, at the signed certificate).
    wanted = algorithms.signature_oid(expected)
    if info.cert.signature_algorithm_oid != wanted:
        what = ("ecdsa-with-SHA256" if iso is Iso.ISO2
                else f"the chain's algorithm, {_ISO20_RULE[expected]}")
        raise ChainError(pos, info.subject, "algorithm.signature",
                         f"signature algorithm is {info.cert.signature_algorithm_oid.dotted_string};"
                         f" {what} is required" if iso is Iso.ISO20 else
                         f"signature algorithm is {info.cert.signature_algorithm_oid.dotted_string}")
    return expected


def _check_issuer_ca(pos: int, info: CertInfo, subs_below: int, findings: list[Finding]) -> None:
    if not info.is_ca:
        raise ChainError(pos, info.subject, "ca.flag")
    if info.key_usage is None:
        findings.append(Finding(pos, info.subject, "compat.key_usage_absent",
                                RULES["compat.key_usage_absent"]))
    elif "key_cert_sign" not in info.key_usage:
        raise ChainError(pos, info.subject, "ca.key_usage")
    assert info.basic_constraints is not None
    path_len = info.basic_constraints[1]
    if path_len is not None and subs_below > path_len:
        raise ChainError(pos, info.subject, "ca.path_len",
                         f"pathLen {path_len} but {subs_below} sub-CA certificate(s) below it")


def _check_name(info: CertInfo, rule: CnRule, findings: list[Finding]) -> None:
    cn = info.cn
    if cn is None:
        raise ChainError(0, info.subject, "name.cn_missing")
    try:
        if rule is CnRule.EMAID:
            try:
                ids.normalise_emaid(cn)
            except ids.IdError as exc:
                if exc.rule != "emaid.check_digit":
                    raise
                # Issuers may fill the 15th position otherwise; the ID rules make it optional.
                findings.append(Finding(0, info.subject, "compat.emaid_check_digit",
                                        RULES["compat.emaid_check_digit"]))
        elif rule is CnRule.PCID:
            ids.normalise_pcid(cn)
        elif rule is CnRule.EVSE_OR_SECC and not (ids.is_valid_evse_id(cn)
                                                  or ids.is_valid_secc_id(cn)):
                raise ids.IdError("evse_id", "evse.pattern", cn)
    except ids.IdError as exc:
        raise ChainError(0, info.subject, f"name.{rule.value}", str(exc)) from exc


def validate_chain(
    chain: Sequence[bytes | x509.Certificate | CertInfo],
    trust: TrustStore | Iterable[TrustAnchor | x509.Certificate | bytes],
    *,
    purpose: Purpose | str | None = None,
    at: dt.datetime | None = None,
    iso: Iso | str = Iso.ISO2,
) -> ChainResult:
    """Validate ``chain`` (leaf first, sub-CAs after; a trailing root is allowed) as a chain
    of the ISO 15118 part ``iso`` ("2" or "20")."""
    part = Iso(iso)
    store = trust if isinstance(trust, TrustStore) else TrustStore(trust)
    when = at or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    purp = Purpose(purpose) if purpose is not None else None
    findings: list[Finding] = []

    infos: list[CertInfo] = []
    for pos, item in enumerate(chain):
        try:
            infos.append(_info(item))
        except CertParseError as exc:
            raise ChainError(pos, "?", exc.rule, exc.detail) from exc
    if not infos:
        raise ChainError(0, "-", "chain.empty")
    # A root sent along with the chain is only acceptable when it is itself trusted.
    if len(infos) > 1 and infos[-1].self_issued:
        if infos[-1].cert not in store:
            raise ChainError(len(infos) - 1, infos[-1].subject, "anchor.untrusted_root")
        infos.pop()
    if len(infos) > MAX_SUB_CAS + 1:
        raise ChainError(len(infos) - 1, infos[-1].subject, "chain.too_long")

    chain_alg: Algorithm | None = None
    for pos, info in enumerate(infos):
        if info.der_error:
            findings.append(Finding(pos, info.subject, "compat.non_der",
                                    f"{RULES['compat.non_der']}: {info.der_error}"))
        chain_alg = _check_algorithms(pos, info, part, chain_alg)
        _check_time(pos, info, when)

    # Links inside the chain.
    for pos in range(len(infos) - 1):
        child, parent = infos[pos], infos[pos + 1]
        if child.cert.issuer != parent.cert.subject:
            raise ChainError(pos, child.subject, "chain.name",
                             f"issuer {child.issuer} but next certificate is {parent.subject}")
        if not _signed_by(child.cert, parent.cert):
            raise ChainError(pos, child.subject, "chain.signature")

    # The anchor.
    last = len(infos) - 1
    if len(infos) == 1 and infos[0].self_issued and infos[0].cert in store:
        anchor: TrustAnchor = next(a for a in store.anchors if a.cert == infos[0].cert)
    else:
        named = store.candidates(infos[last].cert.issuer)
        if not named:
            raise ChainError(last, infos[last].subject, "anchor.not_found",
                             f"no trust anchor named {infos[last].issuer}")
        found = next((a for a in named if _signed_by(infos[last].cert, a.cert)), None)
        if found is None:
            raise ChainError(last, infos[last].subject, "chain.signature",
                             "not signed by the key of any trust anchor of that name")
        anchor = found
    anchor_info = _info(anchor.cert)
    anchor_pos = len(infos)
    if anchor_info.cert != infos[0].cert:
        # The anchor's own signature is not checked (a Sub-CA may be trusted); its key is.
        found = algorithm_of(anchor_info.cert.public_key())
        if found is not chain_alg:
            raise ChainError(anchor_pos, anchor_info.subject, "algorithm.curve",
                             f"the trust anchor's key is {found.value if found else 'neither'};"
                             f" the chain is {chain_alg.value if chain_alg else '?'}"
                             + (f" ({_ISO20_RULE[chain_alg]})" if part is Iso.ISO20
                                and chain_alg in _ISO20_RULE else ""))
    _check_time(anchor_pos, anchor_info, when)

    # CA rules: the certificate at position p has p - 1 sub-CAs between it and the leaf.
    issuers = infos[1:] + ([anchor_info] if anchor_info.cert != infos[0].cert else [])
    for offset, info in enumerate(issuers, start=1):
        _check_issuer_ca(offset, info, offset - 1, findings)
    leaf = infos[0]
    if leaf.cert != anchor.cert:
        if leaf.is_ca:
            raise ChainError(0, leaf.subject, "leaf.ca")
        if leaf.basic_constraints is None:
            findings.append(Finding(0, leaf.subject, "compat.basic_constraints_absent",
                                    RULES["compat.basic_constraints_absent"]))
        if leaf.key_usage is None:
            findings.append(Finding(0, leaf.subject, "compat.key_usage_absent",
                                    RULES["compat.key_usage_absent"]))
        elif purp is not None and "digital_signature" not in leaf.key_usage:
            raise ChainError(0, leaf.subject, "leaf.key_usage")

    # Identifier links and OCSP pointers: deviations are findings.
    for pos, info in enumerate(infos):
        parent = infos[pos + 1] if pos + 1 < len(infos) else anchor_info
        if info.aki is not None and parent.ski is not None and info.aki != parent.ski:
            findings.append(Finding(pos, info.subject, "compat.aki_mismatch",
                                    RULES["compat.aki_mismatch"]))
        if not info.ocsp_urls and not info.self_issued:
            findings.append(Finding(pos, info.subject, "compat.ocsp_absent",
                                    RULES["compat.ocsp_absent"]))

    if purp is not None:
        rule = _PURPOSES[purp]
        if anchor.role not in rule.anchors:
            raise ChainError(anchor_pos, anchor_info.subject, "role.anchor",
                             f"a {purp.value} chain ends in a "
                             f"{' or '.join(sorted(r.value for r in rule.anchors))} root,"
                             f" not {anchor.role.value}")
        if purp is Purpose.VEHICLE and part is not Iso.ISO20:
            raise ChainError(0, leaf.subject, "purpose.iso",
                             "vehicle certificates exist in ISO 15118-20 only")
        assert chain_alg is not None
        leaf_prof = PROFILES[profile_name(rule.leaf_profile, chain_alg)]
        for dc in leaf.dcs:
            if dc not in leaf_prof.dc_allowed:
                raise ChainError(0, leaf.subject, "role.dc",
                                 f"DC={dc}; a {purp.value} leaf has DC "
                                 f"{'/'.join(sorted(leaf_prof.dc_allowed))}")
        if not leaf.dcs:
            findings.append(Finding(0, leaf.subject, "compat.dc_absent", RULES["compat.dc_absent"]))
        sub_dcs = _sub_dcs(rule.sub_roles)
        for pos, info in enumerate(infos[1:], start=1):
            for dc in info.dcs:
                if dc not in sub_dcs:
                    raise ChainError(pos, info.subject, "role.dc",
                                     f"DC={dc}; a {purp.value} sub-CA has DC "
                                     f"{'/'.join(sorted(sub_dcs))}")
        _check_name(leaf, leaf_prof.cn_rule, findings)

    return ChainResult(infos, anchor, purp, findings)
