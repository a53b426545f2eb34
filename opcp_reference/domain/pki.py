"""The reference's own PKI: its CAs, the certificates it issued, revocations, OCSP.

On first start (`demo.initialise`) a `v2g.pki.TestPki` is built; its roots go into the
RCP, every CA certificate and delegated OCSP signer is stored in the `ca` table with its
private key sealed (`store.sealer`), and its demo leaves in `issued_certs`. EST issues
from these CAs and the OCSP responder (`/ocsp`) answers for them from `revocations`.

The OCSP URL baked into every certificate is `<public base URL>/ocsp`, fixed at first start
(default `http://127.0.0.1:8080`). An embedded reference runs on a random port, so the
reference's own status checks (PCP control step 3) resolve URLs under its own public base
URL in-process: the same OCSP request/response bytes, without a network round trip to a
port that may not be its own. Every other URL is asked over HTTP.

Invariants: a CA's key is unsealed only to sign (OCSP responses, EST leaves) and never
leaves this module; the responder is authoritative only for CAs in the `ca` table
(anything else gets `unauthorized`); status is revoked if revoked, good if we issued it,
unknown otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448

from opcp.errors import BadRequest, Conflict, NotFound
from opcp.ocsp_client import AsyncOcspClient
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g.pki.builder import Issued
from v2g.pki.ocsp import (
    GOOD,
    UNKNOWN,
    Lookup,
    Revoked,
    Signer,
    Status,
    issuer_key_hashes,
    respond,
)
from v2g.pki.profiles import profile as _profile
from v2g.pki.testpki import LAYOUT, LAYOUT_20, TestPki

log = logging.getLogger("opcp.reference.pki")

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
OCSP_PATH = "/ocsp"

# The reference's PKI: the toolkit's layout plus an OEM chain derived from a V2G root, which
# the EST `oem`/`veh` CAs issue from ("Provisioning Certificate from V2G PKI", est.v1.json).
REFERENCE_LAYOUT = LAYOUT + [
    ("v2g1.oem.sub1", "oem_sub1", "v2g1.root", "OPCP OEM Sub1 CA V2G 1"),
    ("v2g1.oem.sub2", "oem_sub2", "v2g1.oem.sub1", "OPCP OEM Sub2 CA V2G 1"),
]

# The ISO 15118-20 CAs EST issues from, per -20 algorithm (prefix `p521.` or `ed448.`): the
# V2G root with its CPO, CPS and MO Sub-CAs from the toolkit's -20 layout, and an OEM chain
# under that root for EST `oem` and `veh`. Stored beside the -2 CAs; their roots do not
# enter the RCP, which tags roots by ISO part elsewhere (issue 19 point 3).
_EST_20_CAS = ("v2g.root", "cpo.sub1", "cpo.sub2", "cps.sub1", "cps.sub2", "mo.sub1", "mo.sub2")
REFERENCE_LAYOUT_20 = [row for row in LAYOUT_20 if row[0].split(".", 1)[1] in _EST_20_CAS] + [
    row
    for tag, alg in (("p521", "_20"), ("ed448", "_20_ed448"))
    for row in (
        (f"{tag}.oem.sub1", f"oem_sub1{alg}", f"{tag}.v2g.root", f"OPCP OEM Sub1 CA V2G 20-{tag}"),
        (f"{tag}.oem.sub2", f"oem_sub2{alg}", f"{tag}.oem.sub1", f"OPCP OEM Sub2 CA V2G 20-{tag}"),
    )
]

# The cross-certificate of the demo ecosystem: V2G root 2 vouches for V2G root 1.
CROSS_ISSUER, CROSS_SUBJECT = "v2g2.root", "v2g1.root"

# rootType of each TestPki root in the RCP.
ROOT_TYPES = {"v2g": "V2G", "mo": "MO", "oem": "OEM"}

REASONS = tuple(r.value for r in x509.ReasonFlags)


def _seal_context(name: str) -> bytes:
    # Binds a sealed key to its row: a key copied into another row does not unseal.
    return f"ca:{name}".encode()


def public_url(store: Store) -> str:
    return store.get_setting("public_base_url") or DEFAULT_PUBLIC_URL


def ocsp_url(store: Store) -> str:
    return public_url(store).rstrip("/") + OCSP_PATH


def build(store: Store, base_url: str, now: dt.datetime | None = None) -> TestPki:
    """Build the PKI once and store it (CAs sealed); returns its ISO 15118-2 part, whose roots
    enter the RCP. The ISO 15118-20 CAs (``REFERENCE_LAYOUT_20``) are stored too, for EST."""
    url = base_url.rstrip("/") + OCSP_PATH
    pki = TestPki.build(ocsp_url=url, now=now, layout=REFERENCE_LAYOUT)
    pki20 = TestPki.build(ocsp_url=url, now=now, layout=REFERENCE_LAYOUT_20)
    issued_at = (now or dt.datetime.now(dt.UTC)).isoformat()
    with store.tx() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('public_base_url', ?)"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   (base_url.rstrip("/"),))
        for name, entry in [*pki.entries.items(), *pki20.entries.items()]:
            issued = entry.issued
            if issued.profile.is_ca or issued.profile.ocsp_signing:
                hashes_ = issuer_key_hashes(issued.cert)
                sealed = (store.sealer.seal(issued.key_pem(), _seal_context(name))
                          if issued.key is not None else None)
                db.execute(
                    "INSERT INTO ca (name, role, kind, profile, issuer_name, der, key_sealed,"
                    " key_hash_sha1, key_hash_sha256) VALUES (?,?,?,?,?,?,?,?,?)",
                    (name, entry.role.value, entry.kind.value, issued.profile.name,
                     entry.issuer, issued.der, sealed, hashes_["sha1"], hashes_["sha256"]))
            else:
                _record_issued(db, entry.issuer, issued.cert, issued_at, None)
    return pki


def _record_issued(db, issuer_name: str, cert: x509.Certificate, at: str,
                   client_id: str | None) -> None:
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    db.execute("INSERT INTO issued_certs (issuer_name, serial_hex, der, subject_cn, issued_at,"
               " client_id) VALUES (?,?,?,?,?,?)",
               (issuer_name, format(cert.serial_number, "x"),
                cert.public_bytes(serialization.Encoding.DER),
                str(cn[0].value) if cn else None, at, client_id))


def record_issued(store: Store, issuer_name: str, cert: x509.Certificate,
                  client_id: str | None) -> None:
    with store.tx() as db:
        _record_issued(db, issuer_name, cert, dt.datetime.now(dt.UTC).isoformat(), client_id)


@dataclass(frozen=True)
class StoredCa:
    name: str
    issuer_name: str
    cert: x509.Certificate


def ca(store: Store, name: str) -> StoredCa:
    row = store.query_one("SELECT name, issuer_name, der FROM ca WHERE name = ?", (name,))
    if row is None:
        raise NotFound(f"ca: the reference holds no CA named {name}")
    return StoredCa(row["name"], row["issuer_name"],
                    x509.load_der_x509_certificate(bytes(row["der"])))


def chain_of(store: Store, name: str) -> list[x509.Certificate]:
    """The CA ``name`` and its issuers up to and including the root (CA first)."""
    out, cur = [], name
    while True:
        found = ca(store, cur)
        out.append(found.cert)
        if found.issuer_name == found.name:
            return out
        cur = found.issuer_name


def issuer_for_signing(store: Store, name: str) -> Issued:
    """A CA with its unsealed key, to sign with (EST)."""
    row = store.query_one("SELECT * FROM ca WHERE name = ?", (name,))
    if row is None or row["key_sealed"] is None:
        raise NotFound(f"ca: the reference holds no signing key for {name}")
    key = _unseal(store, row)
    return Issued(x509.load_der_x509_certificate(bytes(row["der"])), key, _profile(row["profile"]))


def _unseal(store: Store, row) -> ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey:
    pem = store.sealer.unseal(bytes(row["key_sealed"]), _seal_context(row["name"]))
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey)
    return key


def _ca_by_key_hash(store: Store, key_hash: bytes):
    return store.query_one(
        "SELECT * FROM ca WHERE (key_hash_sha1 = ? OR key_hash_sha256 = ?) AND kind != 'ocsp'",
        (key_hash, key_hash))


# ------------------------------------------------------------------------ OCSP responder

def ocsp_signer(store: Store, key_hash: bytes) -> Signer | None:
    """The delegated OCSP signer of the CA with that key hash (or the CA itself)."""
    row = _ca_by_key_hash(store, key_hash)
    if row is None:
        return None
    ca_cert = x509.load_der_x509_certificate(bytes(row["der"]))
    delegated = store.query_one("SELECT * FROM ca WHERE issuer_name = ? AND kind = 'ocsp'",
                                (row["name"],))
    use = delegated if delegated is not None and delegated["key_sealed"] is not None else row
    if use["key_sealed"] is None:
        return None
    return Signer(x509.load_der_x509_certificate(bytes(use["der"])), _unseal(store, use), ca_cert)


def ocsp_status(store: Store, key_hash: bytes, serial: int) -> Status:
    row = _ca_by_key_hash(store, key_hash)
    if row is None:
        return UNKNOWN
    serial_hex = format(serial, "x")
    revoked = store.query_one(
        "SELECT reason, revoked_at FROM revocations WHERE issuer_name = ? AND serial_hex = ?",
        (row["name"], serial_hex))
    if revoked is not None:
        reason = x509.ReasonFlags(revoked["reason"])
        return Revoked(dt.datetime.fromisoformat(revoked["revoked_at"]),
                       None if reason is x509.ReasonFlags.unspecified else reason)
    if store.query_one("SELECT 1 FROM issued_certs WHERE issuer_name = ? AND serial_hex = ?",
                       (row["name"], serial_hex)):
        return GOOD
    # A sub-CA or OCSP signer of that CA: good when the serial is one of them.
    for sub in store.query("SELECT der FROM ca WHERE issuer_name = ? AND name != issuer_name",
                           (row["name"],)):
        if x509.load_der_x509_certificate(bytes(sub["der"])).serial_number == serial:
            return GOOD
    return UNKNOWN


def lookup_for(store: Store, faults: Faults | None = None) -> Lookup:
    """The responder's status lookup; the fault switch `ocsp-revocations-ignored` applies to
    HTTP answers and in-process checks alike."""
    ignore = faults is not None and faults.on("ocsp-revocations-ignored")

    def lookup(key_hash: bytes, serial: int) -> Status:
        status = ocsp_status(store, key_hash, serial)
        return GOOD if ignore and isinstance(status, Revoked) else status

    return lookup


def answer_ocsp(store: Store, request_der: bytes, faults: Faults | None = None) -> bytes:
    return respond(request_der, lookup_for(store, faults), lambda h: ocsp_signer(store, h))


# ------------------------------------------------------------------------ revocation

def revoke(store: Store, body: object, now: dt.datetime | None = None) -> dict:
    """Admin extension: revoke a certificate of one of our CAs by issuer and serial."""
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object with issuerKeyHash or issuerFingerprint,"
                         " serialNumber and reason")
    key_hash, fingerprint = body.get("issuerKeyHash"), body.get("issuerFingerprint")
    if (key_hash is None) == (fingerprint is None):
        raise BadRequest("issuerKeyHash, issuerFingerprint: exactly one of them is required")
    serial = body.get("serialNumber")
    if not isinstance(serial, str) or not _is_hex(serial, 1, 40):
        raise BadRequest("serialNumber: must be the serial in hexadecimal (1 to 40 digits)")
    reason = body.get("reason", "unspecified")
    if reason not in REASONS:
        raise BadRequest(f"reason: must be one of {', '.join(REASONS)}")
    if key_hash is not None:
        if not isinstance(key_hash, str) or not (_is_hex(key_hash, 40, 40)
                                                 or _is_hex(key_hash, 64, 64)):
            raise BadRequest("issuerKeyHash: must be the SHA-1 (40) or SHA-256 (64 hex digits)"
                             " of the issuer's public key")
        row = _ca_by_key_hash(store, bytes.fromhex(key_hash))
    else:
        if not isinstance(fingerprint, str) or not _is_hex(fingerprint.replace(":", ""), 64, 64):
            raise BadRequest("issuerFingerprint: must be the SHA-256 of the issuer certificate"
                             " (64 hex digits)")
        wanted = fingerprint.replace(":", "").lower()
        row = next((r for r in store.query("SELECT * FROM ca WHERE kind != 'ocsp'")
                    if hashlib.sha256(bytes(r["der"])).hexdigest() == wanted), None)
    if row is None:
        raise NotFound("issuer: no CA of this reference has that key hash or fingerprint")
    serial_hex = format(int(serial, 16), "x")
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    with store.tx() as db:
        if db.execute("SELECT 1 FROM revocations WHERE issuer_name = ? AND serial_hex = ?",
                      (row["name"], serial_hex)).fetchone():
            raise Conflict(f"serialNumber: {serial_hex} of {row['name']} is already revoked")
        db.execute("INSERT INTO revocations (issuer_name, serial_hex, reason, revoked_at)"
                   " VALUES (?,?,?,?)", (row["name"], serial_hex, reason, when.isoformat()))
    return {"issuer": row["name"], "serialNumber": serial_hex, "reason": reason,
            "revokedAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _is_hex(value: str, low: int, high: int) -> bool:
    return low <= len(value) <= high and all(c in "0123456789abcdefABCDEF" for c in value)


# ------------------------------------------------------------------------ status checks

class StatusChecker(AsyncOcspClient):
    """Asks a certificate's OCSP responder (its AIA URL) for its status, verified, through the
    project's one OCSP client.

    URLs under this reference's own public base URL are answered in-process (see the module
    docstring); answers are not cached, so a revocation shows at the next check."""

    def __init__(self, store: Store, http: httpx.AsyncClient | None = None,
                 faults: Faults | None = None):
        super().__init__(http, nonce=False, cache=False, local=self._answer_here)
        self.store = store
        self.faults = faults

    def _answer_here(self, url: str, request: bytes) -> bytes | None:
        if url.rstrip("/") != ocsp_url(self.store).rstrip("/"):
            return None
        return answer_ocsp(self.store, request, self.faults)
