"""A complete multi-root test PKI, and its on-disk form (a directory with manifest.json).

``TestPki.build()`` makes two V2G roots, one MO root and two OEM roots, every sub-CA and
leaf of the ISO 15118-2 profile table under them, and an OCSP signer for every CA.
``TestPki.build(layout=LAYOUT_20)`` makes the ISO 15118-20 hierarchies beside it: per -20
algorithm (secp521r1, Ed448) a V2G root with CPO, CPS and MO chains, an MO root and an
OEM root with provisioning and vehicle certificates (``layout_for("2", "20")`` gives both).
``write(dir)`` and ``load(dir)`` move it to and from disk; the directory layout is::

    DIR/manifest.json          [{"name", "role", "kind", "issuer", "der", "pem", "key", "profile",
                                 "altKey"}]
    DIR/certs/<name>.der|.pem
    DIR/keys/<name>.key.pem    PKCS#8, unencrypted: test material only
    DIR/keys/<name>.x448.key.pem   the X448 key of an Ed448 provisioning certificate

File I/O is confined to ``write``/``load`` so the rest stays usable on bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448

from v2g.errors import FieldRuleError
from v2g.ids import emaid_with_check_digit
from v2g.pki.algorithms import ISO20_ALGORITHMS, Algorithm
from v2g.pki.builder import Issued, issue
from v2g.pki.ocsp import Signer
from v2g.pki.profiles import PROFILES, Kind, Role, profile_name
from v2g.pki.profiles import profile as _profile

__all__ = ["DEFAULT_OCSP_URL", "LAYOUT", "LAYOUT_20", "ManifestError", "PkiEntry", "TestPki",
           "layout_for"]

DEFAULT_OCSP_URL = "http://127.0.0.1:8080/ocsp"

# (name, profile, issuer name or None, subject CN): the PKI as data, parents first.
LAYOUT: list[tuple[str, str, str | None, str]] = [
    ("v2g1.root", "v2g_root", None, "OPCP V2G Root CA 1"),
    ("v2g1.cpo.sub1", "cpo_sub1", "v2g1.root", "OPCP CPO Sub1 CA 1"),
    ("v2g1.cpo.sub2", "cpo_sub2", "v2g1.cpo.sub1", "OPCP CPO Sub2 CA 1"),
    ("v2g1.cpo.secc", "secc_leaf", "v2g1.cpo.sub2", "DE*OPC*E0001*1"),
    ("v2g1.cps.sub1", "cps_sub1", "v2g1.root", "OPCP Prov Sub1 CA 1"),
    ("v2g1.cps.sub2", "cps_sub2", "v2g1.cps.sub1", "OPCP Prov Sub2 CA 1"),
    ("v2g1.cps.leaf", "cps_leaf", "v2g1.cps.sub2", "OPCP CPS 1"),
    ("v2g1.mo.sub1", "v2g_mo_sub1", "v2g1.root", "OPCP MO Sub1 CA 1"),
    ("v2g1.mo.sub2", "v2g_mo_sub2", "v2g1.mo.sub1", "OPCP MO Sub2 CA 1"),
    ("v2g1.mo.contract", "contract_leaf", "v2g1.mo.sub2", emaid_with_check_digit("DEOPCV2GMO0001")),
    ("v2g2.root", "v2g_root", None, "OPCP V2G Root CA 2"),
    ("v2g2.cpo.sub1", "cpo_sub1", "v2g2.root", "OPCP CPO Sub1 CA 2"),
    ("v2g2.cpo.sub2", "cpo_sub2", "v2g2.cpo.sub1", "OPCP CPO Sub2 CA 2"),
    ("v2g2.cpo.secc", "secc_leaf", "v2g2.cpo.sub2", "DE-OPC-S-0000000000000002-1"),
    ("v2g2.cps.sub1", "cps_sub1", "v2g2.root", "OPCP Prov Sub1 CA 2"),
    ("v2g2.cps.sub2", "cps_sub2", "v2g2.cps.sub1", "OPCP Prov Sub2 CA 2"),
    ("v2g2.cps.leaf", "cps_leaf", "v2g2.cps.sub2", "OPCP CPS 2"),
    ("mo1.root", "mo_root", None, "OPCP MO Root CA 1"),
    ("mo1.sub1", "mo_sub1", "mo1.root", "OPCP MO Sub1 CA M1"),
    ("mo1.sub2", "mo_sub2", "mo1.sub1", "OPCP MO Sub2 CA M1"),
    ("mo1.contract", "contract_leaf", "mo1.sub2", emaid_with_check_digit("DEOPCMOROOT001")),
    ("oem1.root", "oem_root", None, "OPCP OEM Root CA 1"),
    ("oem1.sub1", "oem_sub1", "oem1.root", "OPCP OEM Sub1 CA 1"),
    ("oem1.sub2", "oem_sub2", "oem1.sub1", "OPCP OEM Sub2 CA 1"),
    ("oem1.prov", "oem_prov_leaf", "oem1.sub2", "OPCVIN00000000001"),
    ("oem2.root", "oem_root", None, "OPCP OEM Root CA 2"),
    ("oem2.sub1", "oem_sub1", "oem2.root", "OPCP OEM Sub1 CA 2"),
    ("oem2.sub2", "oem_sub2", "oem2.sub1", "OPCP OEM Sub2 CA 2"),
    ("oem2.prov", "oem_prov_leaf", "oem2.sub2", "OP2VIN000000000021"),
]




def _layout_20(alg: Algorithm) -> list[tuple[str, str, str | None, str]]:
    """One ISO 15118-20 ecosystem on ``alg``: names are prefixed with the algorithm."""
    t = {Algorithm.SECP521R1: "p521", Algorithm.ED448: "ed448"}[alg]
    n = {Algorithm.SECP521R1: "1", Algorithm.ED448: "2"}[alg]
    rows = [
        ("v2g.root", "v2g_root", None, f"OPCP V2G Root CA 20-{t}"),
        ("cpo.sub1", "cpo_sub1", "v2g.root", f"OPCP CPO Sub1 CA 20-{t}"),
        ("cpo.sub2", "cpo_sub2", "cpo.sub1", f"OPCP CPO Sub2 CA 20-{t}"),
        ("cpo.secc", "secc_leaf", "cpo.sub2", f"DE*OPC*E20{n}*1"),
        ("cps.sub1", "cps_sub1", "v2g.root", f"OPCP Prov Sub1 CA 20-{t}"),
        ("cps.sub2", "cps_sub2", "cps.sub1", f"OPCP Prov Sub2 CA 20-{t}"),
        ("cps.leaf", "cps_leaf", "cps.sub2", f"OPCP CPS 20-{t}"),
        ("mo.sub1", "v2g_mo_sub1", "v2g.root", f"OPCP MO Sub1 CA 20-{t}"),
        ("mo.sub2", "v2g_mo_sub2", "mo.sub1", f"OPCP MO Sub2 CA 20-{t}"),
        ("mo.contract", "contract_leaf", "mo.sub2", emaid_with_check_digit(f"DEOPCV2G20{n}001")),
        ("mo1.root", "mo_root", None, f"OPCP MO Root CA 20-{t}"),
        ("mo1.sub1", "mo_sub1", "mo1.root", f"OPCP MO Sub1 CA M20-{t}"),
        ("mo1.sub2", "mo_sub2", "mo1.sub1", f"OPCP MO Sub2 CA M20-{t}"),
        ("mo1.contract", "contract_leaf", "mo1.sub2", emaid_with_check_digit(f"DEOPCMO20{n}0001")),
        ("oem1.root", "oem_root", None, f"OPCP OEM Root CA 20-{t}"),
        ("oem1.sub1", "oem_sub1", "oem1.root", f"OPCP OEM Sub1 CA 20-{t}"),
        ("oem1.sub2", "oem_sub2", "oem1.sub1", f"OPCP OEM Sub2 CA 20-{t}"),
        ("oem1.prov", "oem_prov_leaf", "oem1.sub2", f"OPCVIN20000000000{n}"),
        ("oem1.vehicle", "vehicle_leaf", "oem1.sub2", f"OPCVIN20000000000{n}"),
    ]
    return [(f"{t}.{name}", profile_name(prof, alg), f"{t}.{issuer}" if issuer else None, cn)
            for name, prof, issuer, cn in rows]


LAYOUT_20: list[tuple[str, str, str | None, str]] = [
    row for alg in ISO20_ALGORITHMS for row in _layout_20(alg)]


def layout_for(*parts: str) -> list[tuple[str, str, str | None, str]]:
    """The test PKI layout of the ISO 15118 parts named ("2", "20"), in that order."""
    layouts = {"2": LAYOUT, "20": LAYOUT_20}
    unknown = [p for p in parts if p not in layouts]
    if unknown or not parts:
        raise ManifestError("iso", "iso.part", f"parts are 2 and 20, not {unknown or 'none'}")
    return [row for p in parts for row in layouts[p]]


class ManifestError(FieldRuleError):
    """Bad input naming the field and the rule it broke."""

    prefix = "manifest "


@dataclass(frozen=True)
class PkiEntry:
    name: str
    issuer: str  # itself for roots
    issued: Issued

    @property
    def role(self) -> Role:
        return self.issued.profile.role

    @property
    def kind(self) -> Kind:
        return self.issued.profile.kind


class TestPki:
    """Named certificates and keys of a test PKI, parents before children."""

    __test__ = False  # not a pytest test class

    def __init__(self, entries: list[PkiEntry]) -> None:
        self.entries: dict[str, PkiEntry] = {}
        for e in entries:
            if e.name in self.entries:
                raise ManifestError("name", "name.unique", f"duplicate name {e.name!r}")
            self.entries[e.name] = e

    @classmethod
    def build(cls, *, ocsp_url: str = DEFAULT_OCSP_URL, now: dt.datetime | None = None,
              ocsp_signers: bool = True,
              layout: list[tuple[str, str, str | None, str]] | None = None) -> TestPki:
        """Issue every row of ``layout`` (default ``LAYOUT``), parents before children."""
        start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=1)
        made: dict[str, Issued] = {}
        entries: list[PkiEntry] = []
        for name, prof, issuer, cn in (LAYOUT if layout is None else layout):
            parent = made[issuer] if issuer else None
            made[name] = issue(prof, cn, parent, ocsp_url=ocsp_url, not_before=start)
            entries.append(PkiEntry(name, issuer or name, made[name]))
            if ocsp_signers and made[name].profile.is_ca:
                signer = f"{name}.ocsp"
                p = made[name].profile
                made[signer] = issue(profile_name(f"{p.base}_ocsp", p.algorithm),
                                     f"{cn} OCSP Signer", made[name],
                                     ocsp_url=ocsp_url, not_before=start)
                entries.append(PkiEntry(signer, name, made[signer]))
        return cls(entries)

    # ------------------------------------------------------------------ queries
    def __getitem__(self, name: str) -> Issued:
        return self.entries[name].issued

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def names(self, *, role: Role | None = None, kind: Kind | None = None) -> list[str]:
        return [n for n, e in self.entries.items()
                if (role is None or e.role is role) and (kind is None or e.kind is kind)]

    def roots(self) -> list[Issued]:
        return [self[n] for n in self.names(kind=Kind.ROOT)]

    def chain(self, name: str) -> list[Issued]:
        """``name`` and its issuers up to, not including, the root (leaf first)."""
        out: list[Issued] = []
        cur = name
        while self.entries[cur].kind is not Kind.ROOT:
            out.append(self[cur])
            cur = self.entries[cur].issuer
        return out

    def root_of(self, name: str) -> Issued:
        cur = name
        while self.entries[cur].kind is not Kind.ROOT:
            cur = self.entries[cur].issuer
        return self[cur]

    def ocsp_signer_for(self, ca_name: str) -> Issued | None:
        signer = f"{ca_name}.ocsp"
        return self[signer] if signer in self.entries else None

    def ocsp_signers(self) -> list[Signer]:
        """A responder signer per CA: its delegated OCSP signer when present, else itself."""
        out = []
        for name in self.names():
            ca = self[name]
            if not ca.profile.is_ca or ca.key is None:
                continue
            delegated = self.ocsp_signer_for(name)
            if delegated is not None and delegated.key is not None:
                out.append(Signer(delegated.cert, delegated.key, ca.cert))
            else:
                out.append(Signer(ca.cert, ca.key, ca.cert))
        return out

    # ------------------------------------------------------------------ disk
    def write(self, directory: str | Path) -> Path:
        d = Path(directory)
        (d / "certs").mkdir(parents=True, exist_ok=True)
        (d / "keys").mkdir(parents=True, exist_ok=True)
        manifest = []
        for name, e in self.entries.items():
            der, pem, key = f"certs/{name}.der", f"certs/{name}.pem", f"keys/{name}.key.pem"
            (d / der).write_bytes(e.issued.der)
            (d / pem).write_bytes(e.issued.pem)
            row = {"name": name, "role": e.role.value, "kind": e.kind.value, "issuer": e.issuer,
                   "der": der, "pem": pem, "key": None, "profile": e.issued.profile.name}
            if e.issued.key is not None:
                (d / key).write_bytes(e.issued.key_pem())
                (d / key).chmod(0o600)
                row["key"] = key
            if e.issued.alt_key is not None:
                alt = f"keys/{name}.x448.key.pem"
                (d / alt).write_bytes(e.issued.alt_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()))
                (d / alt).chmod(0o600)
                row["altKey"] = alt
            manifest.append(row)
        path = d / "manifest.json"
        # Written last, so a directory with a manifest is a complete one.
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> TestPki:
        d = Path(directory)
        try:
            rows = json.loads((d / "manifest.json").read_text())
        except FileNotFoundError as exc:
            raise ManifestError("manifest.json", "file.missing", str(exc)) from exc
        except json.JSONDecodeError as exc:
            raise ManifestError("manifest.json", "json", str(exc)) from exc
        if not isinstance(rows, list):
            raise ManifestError("manifest.json", "type", "must be a JSON list")
        by_name: dict[str, dict] = {}
        for i, row in enumerate(rows):
            for f in ("name", "role", "kind", "issuer", "der"):
                if not isinstance(row, dict) or not isinstance(row.get(f), str):
                    raise ManifestError(f"[{i}].{f}", "required", "missing or not a string")
            try:
                Role(row["role"])
                Kind(row["kind"])
            except ValueError as exc:
                raise ManifestError(f"[{i}]", "enum", str(exc)) from exc
            by_name[row["name"]] = row
        entries: list[PkiEntry] = []
        profiles: dict[str, str] = {}
        for i, row in enumerate(rows):
            if row["issuer"] not in by_name:
                raise ManifestError(f"[{i}].issuer", "issuer.unknown",
                                    f"{row['issuer']!r} is not a name in the manifest")
            prof = row.get("profile") or _infer_profile(row, by_name)
            try:
                p = _profile(prof)
            except KeyError as exc:
                raise ManifestError(f"[{i}].profile", "profile.unknown", str(exc)) from exc
            profiles[row["name"]] = p.name
            cert = x509.load_der_x509_certificate((d / row["der"]).read_bytes())
            key = None
            if row.get("key"):
                k = serialization.load_pem_private_key((d / row["key"]).read_bytes(), None)
                if not isinstance(k, ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey):
                    raise ManifestError(f"[{i}].key", "key.type", "not an EC or Ed448 private key")
                key = k
            alt_key = None
            if row.get("altKey"):
                a = serialization.load_pem_private_key((d / row["altKey"]).read_bytes(), None)
                if not isinstance(a, x448.X448PrivateKey):
                    raise ManifestError(f"[{i}].altKey", "key.type", "not an X448 private key")
                alt_key = a
            entries.append(PkiEntry(row["name"], row["issuer"], Issued(cert, key, p, alt_key)))
        return cls(entries)


def _infer_profile(row: dict, rows: dict[str, dict]) -> str:
    """Profile of a manifest row written by another tool (no "profile" field)."""
    role, kind = Role(row["role"]), Kind(row["kind"])
    if kind is Kind.ROOT:
        return {Role.MO: "mo_root", Role.OEM: "oem_root"}.get(role, "v2g_root")
    if kind is Kind.LEAF:
        return {Role.CPO: "secc_leaf", Role.CPS: "cps_leaf", Role.MO: "contract_leaf",
                Role.OEM: "oem_prov_leaf"}[role]
    issuer = rows[row["issuer"]]
    if kind is Kind.OCSP:
        return f"{_infer_profile(issuer, rows)}_ocsp"
    # A sub-CA: Sub1 when its issuer is a root, Sub2 otherwise.
    level = 1 if issuer["kind"] == Kind.ROOT.value else 2
    if role is Role.MO and level == 1 and issuer["role"] == Role.V2G.value:
        return "v2g_mo_sub1"
    if role is Role.MO and level == 2 and _infer_profile(issuer, rows) == "v2g_mo_sub1":
        return "v2g_mo_sub2"
    name = f"{role.value}_sub{level}"
    if name not in PROFILES:
        raise ManifestError("role", "role.sub", f"no sub-CA profile for role {role.value}")
    return name
