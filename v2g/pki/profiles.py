"""ISO 15118-2 certificate profiles as one table.

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
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["LEAF_MAX_DER", "PROFILES", "CnRule", "Kind", "Profile", "Role", "Usage", "profile"]

# ISO 15118-2 [V2G2-010]-style size budget: a leaf must fit the EXI message limits.
LEAF_MAX_DER = 800


class Role(enum.StrEnum):
    V2G = "v2g"
    CPO = "cpo"
    CPS = "cps"
    MO = "mo"
    OEM = "oem"


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

PROFILES: dict[str, Profile] = {p.name: p for p in _ROWS}


def profile(name: str | Profile) -> Profile:
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown certificate profile {name!r}; known: {sorted(PROFILES)}") from None
