"""ISO 15118-2 and ISO 15118-20 certificate profiles as one table.

A profile says what a certificate of a given place in the V2G PKI must look like:
who issues it (``parent``), its basicConstraints, keyUsage, the domain component (DC)
of its subject, the identifier its CN must be, and its validity. The builder reads it
to issue certificates; the validator reads it to check chains. Both read the same row,
so a certificate we issue always passes our own checks, by construction and by test.

Sources of the values (see docs/pki.md):
- ISO 15118-2 Annex F via the operator's real certificates in the OPCP spec examples:
  secp256r1/ECDSA-SHA256, Sub-CA 1 pathLen 1, Sub-CA 2 pathLen 0, keyUsage
  keyCertSign+cRLSign on CAs, AIA with an OCSP URL, sub-CA subjects with DC=V2G.
- Validity days and leaf keyUsage as in the `iso15118` package's PKI script, which puts
  DC=MO/OEM/CPS on sub-CAs where the operator puts DC=V2G: both are accepted
  (``dc_allowed``) and we issue with the operator's choice (``dc``).

ISO 15118-20 rows (docs/pki.md, docs/iso20.md) are the same places of the PKI on the -20
algorithms: ``<name>_20`` on secp521r1 / ecdsa-with-SHA512 ([V2G20-2674]) and
``<name>_20_ed448`` on Ed448 ([V2G20-2319]); a hierarchy is of one algorithm throughout, so
each -20 profile is issued only by a -20 profile of the same algorithm. -20 adds the vehicle
certificate (``vehicle_leaf``, the EVCC's TLS 1.3 client certificate, EST CA ``veh``). The
Ed448 OEM provisioning certificate carries an X448 key for ECDHE as its "Alternate Subject
Public Key" ([V2G20-2534]); keyAgreement is set on every OEM provisioning certificate
([V2G20-822]) and on no other Ed448 certificate (RFC 8410 section 5 allows it on none).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

from v2g.pki.algorithms import ISO20_ALGORITHMS, Algorithm

__all__ = ["LEAF_MAX_DER", "PROFILES", "CnRule", "Iso", "Kind", "Profile", "Role", "Usage", "profile",
           "profile_name"]

# ISO 15118-2 [V2G2-010]-style size budget: a leaf must fit the EXI message limits.
LEAF_MAX_DER = 800


class Role(enum.StrEnum):
    V2G = "v2g"
    CPO = "cpo"
    CPS = "cps"
    MO = "mo"
    OEM = "oem"


class Iso(enum.StrEnum):
    ISO2 = "2"
    ISO20 = "20"


class Kind(enum.StrEnum):
    ROOT = "root"
    SUB = "sub"
    LEAF = "leaf"
    OCSP = "ocsp"


class CnRule(enum.StrEnum):
    FREE = "free"
    EMAID = "emaid"
    PCID = "pcid"
    EVSE_OR_SECC = "evse_or_secc"


class Usage(enum.StrEnum):
    """keyUsage bits we use, named as in RFC 5280."""

    DIGITAL_SIGNATURE = "digital_signature"
    NON_REPUDIATION = "content_commitment"
    KEY_AGREEMENT = "key_agreement"
    KEY_CERT_SIGN = "key_cert_sign"
    CRL_SIGN = "crl_sign"


CA_USAGE = frozenset({Usage.KEY_CERT_SIGN, Usage.CRL_SIGN})


@dataclass(frozen=True)
class Profile:
    name: str
    role: Role
    kind: Kind
    parent: tuple[str, ...]  # profile names allowed to issue it; () for roots
    days: int
    dc: str | None  # the DC we write
    dc_allowed: frozenset[str]  # DC values accepted when present
    key_usage: frozenset[Usage]
    path_len: int | None = None  # for CAs; None = unlimited (roots)
    cn_rule: CnRule = CnRule.FREE
    ocsp_signing: bool = False  # extendedKeyUsage id-kp-OCSPSigning + id-pkix-ocsp-nocheck
    aia: bool = True  # AIA with the issuer's OCSP URL (roots have no issuer to ask)
    notes: str = field(default="", compare=False)
    iso: Iso = Iso.ISO2
    algorithm: Algorithm = Algorithm.SECP256R1
    base: str = ""  # the place in the PKI, the same for every algorithm ("" = name)
    alt_x448: bool = False  # carries an X448 key-agreement key as subjectAltPublicKeyInfo

    def __post_init__(self) -> None:
        if not self.base:
            object.__setattr__(self, "base", self.name)

    @property
    def is_ca(self) -> bool:
        return self.kind in (Kind.ROOT, Kind.SUB)


def _ca(name: str, role: Role, kind: Kind, parent: tuple[str, ...], days: int, dc: str,
        allowed: set[str], path_len: int | None, notes: str = "") -> Profile:
    return Profile(name, role, kind, parent, days, dc, frozenset(allowed), CA_USAGE, path_len,
                   aia=kind is not Kind.ROOT, notes=notes)


_LEAF_SIG_KA = frozenset({Usage.DIGITAL_SIGNATURE, Usage.KEY_AGREEMENT})

_ROWS: list[Profile] = [
    # V2G root: the trust anchor of the whole ecosystem.
    _ca("v2g_root", Role.V2G, Kind.ROOT, (), 3650, "V2G", {"V2G"}, None),
    # CPO: SECC (EVSE) certificates for TLS towards the EV.
    _ca("cpo_sub1", Role.CPO, Kind.SUB, ("v2g_root",), 1460, "V2G", {"V2G", "CPO"}, 1),
    _ca("cpo_sub2", Role.CPO, Kind.SUB, ("cpo_sub1",), 365, "V2G", {"V2G", "CPO"}, 0),
    Profile("secc_leaf", Role.CPO, Kind.LEAF, ("cpo_sub2",), 60, "CPO", frozenset({"CPO"}),
            _LEAF_SIG_KA, cn_rule=CnRule.EVSE_OR_SECC),
    # CPS: signs contract data for installation into the EV.
    _ca("cps_sub1", Role.CPS, Kind.SUB, ("v2g_root",), 1460, "V2G", {"V2G", "CPS"}, 1),
    _ca("cps_sub2", Role.CPS, Kind.SUB, ("cps_sub1",), 730, "V2G", {"V2G", "CPS"}, 0),
    Profile("cps_leaf", Role.CPS, Kind.LEAF, ("cps_sub2",), 90, "CPS", frozenset({"CPS"}),
            frozenset({Usage.DIGITAL_SIGNATURE})),
    # MO: contract certificates, under an MO's own root or derived from a V2G root.
    _ca("mo_root", Role.MO, Kind.ROOT, (), 3650, "MO", {"MO", "V2G"}, None),
    _ca("mo_sub1", Role.MO, Kind.SUB, ("mo_root",), 1460, "MO", {"MO", "V2G"}, 1),
    _ca("mo_sub2", Role.MO, Kind.SUB, ("mo_sub1",), 1460, "MO", {"MO", "V2G"}, 0),
    _ca("v2g_mo_sub1", Role.MO, Kind.SUB, ("v2g_root",), 1460, "V2G", {"V2G", "MO"}, 1,
        notes="MO Sub-CA 1 derived from a V2G root (the operator's MO CA service)"),
    _ca("v2g_mo_sub2", Role.MO, Kind.SUB, ("v2g_mo_sub1",), 1460, "V2G", {"V2G", "MO"}, 0),
    Profile("contract_leaf", Role.MO, Kind.LEAF, ("mo_sub2", "v2g_mo_sub2"), 730, "MO",
            frozenset({"MO"}), _LEAF_SIG_KA | {Usage.NON_REPUDIATION}, cn_rule=CnRule.EMAID,
            notes="real operator contract leaves carry no DC: accepted, reported as a finding"),
    # OEM: provisioning certificates, one per vehicle.
    _ca("oem_root", Role.OEM, Kind.ROOT, (), 3650, "OEM", {"OEM", "V2G"}, None),
    _ca("oem_sub1", Role.OEM, Kind.SUB, ("oem_root", "v2g_root"), 1460, "OEM", {"OEM", "V2G"}, 1),
    _ca("oem_sub2", Role.OEM, Kind.SUB, ("oem_sub1",), 1460, "OEM", {"OEM", "V2G"}, 0),
    Profile("oem_prov_leaf", Role.OEM, Kind.LEAF, ("oem_sub2",), 1460, "OEM",
            frozenset({"OEM"}), _LEAF_SIG_KA, cn_rule=CnRule.PCID),
]

# An OCSP signer per CA profile: delegated responder certificate (RFC 6960 §4.2.2.2).
_CA_NAMES = [p.name for p in _ROWS if p.is_ca]
_ROWS += [
    Profile(f"{ca}_ocsp", p.role, Kind.OCSP, (ca,), 90, p.dc, p.dc_allowed,
            frozenset({Usage.DIGITAL_SIGNATURE}), ocsp_signing=True)
    for ca in _CA_NAMES
    for p in [next(r for r in _ROWS if r.name == ca)]
]

_SUFFIX = {Algorithm.SECP256R1: "", Algorithm.SECP521R1: "_20", Algorithm.ED448: "_20_ed448"}


def profile_name(base: str, algorithm: Algorithm | str = Algorithm.SECP256R1) -> str:
    """The profile of place ``base`` (e.g. ``contract_leaf``) on ``algorithm``."""
    return base + _SUFFIX[Algorithm(algorithm)]


# ISO 15118-20 adds the vehicle certificate, issued by the OEM Sub-CA 2 next to the
# provisioning certificate (est.v1.json's `veh` CA: "Vehicle Certificate ... (ISO15118:20)").
_VEHICLE = Profile("vehicle_leaf", Role.OEM, Kind.LEAF, ("oem_sub2",), 1460, "OEM",
                   frozenset({"OEM"}), frozenset({Usage.DIGITAL_SIGNATURE}), cn_rule=CnRule.PCID,
                   notes="ISO 15118-20 only: the EVCC's TLS client certificate")


def _iso20(p: Profile, algorithm: Algorithm) -> Profile:
    usage = p.key_usage
    alt = algorithm is Algorithm.ED448 and p.base == "oem_prov_leaf"
    if algorithm is Algorithm.ED448 and not alt:
        usage = usage - {Usage.KEY_AGREEMENT}
    parent = tuple(profile_name(n, algorithm) for n in p.parent)
    return dataclasses.replace(p, name=profile_name(p.base, algorithm), parent=parent,
                               key_usage=usage, iso=Iso.ISO20, algorithm=algorithm,
                               alt_x448=alt)


_ROWS += [_iso20(p, alg) for alg in ISO20_ALGORITHMS
          for p in [*_ROWS, _VEHICLE]]

PROFILES: dict[str, Profile] = {p.name: p for p in _ROWS}


def profile(name: str | Profile) -> Profile:
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown certificate profile {name!r}; known: {sorted(PROFILES)}") from None
