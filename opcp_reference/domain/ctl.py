"""The ecosystem's certificate trust list (`GET /v1/root/ctl`, format `v2g.pki.ctl`).

Guarantees:
- the CTL served lists exactly the roots of the RCP that are valid at the time of the call,
  each with the cross-certificates of its crossCertificatePair whose signing root is listed;
- it is re-issued, with the next sequence number, at the first read after the RCP changed
  (the change itself is announced by its root.cert.added / revoked / expired event, which
  tells parties to fetch the CTL again) and a day before its nextUpdate; otherwise the same
  signed document is served again, byte for byte;
- issues are kept (`ctl_issues`), so sequence numbers never repeat, across restarts too;
- it is signed by a CTL signer certificate (trust-list signing EKU) issued by a V2G root of
  the RCP whose key the reference holds, the first by name; the signer's key is sealed.
  Without such a root there is no CTL: the spec's 404.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from opcp.errors import NotFound
from opcp.models.base import iso_z
from opcp_reference.domain import pki
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g.pki import ctl
from v2g.pki.algorithms import PrivateKey
from v2g.pki.builder import Issued
from v2g.pki.cross import decode_pair

VALID_DAYS = 7  # nextUpdate = thisUpdate + 7 days
REISSUE_BEFORE = dt.timedelta(days=1)


def _seal_context(fingerprint: str) -> bytes:
    return f"ctl-signer:{fingerprint}".encode()


def _listed(store: Store, now: dt.datetime) -> list[ctl.CtlRoot]:
    rows = store.query("SELECT * FROM root_certs WHERE not_before <= ? AND not_after >= ?"
                       " ORDER BY id", (iso_z(now), iso_z(now)))
    certs = {r["id"]: x509.load_der_x509_certificate(bytes(r["der"])) for r in rows}
    subjects = {c.subject for c in certs.values()}
    out = []
    for row in rows:
        cross: tuple[x509.Certificate, ...] = ()
        if row["cross_pair"] is not None:
            # A cross-certificate whose vouching root left the pool vouches for nothing.
            cross = tuple(c for c in decode_pair(bytes(row["cross_pair"])).certificates()
                          if c.issuer in subjects)
        out.append(ctl.CtlRoot(row["root_type"], certs[row["id"]], cross))
    return out


def _digest(roots: list[ctl.CtlRoot]) -> str:
    parts = sorted(f"{r.root_type}:{r.fingerprint}:" + ",".join(
        hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()
        for c in r.cross_certificates) for r in roots)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _signing_root(store: Store, roots: list[ctl.CtlRoot]) -> tuple[str, Issued]:
    """The first V2G root of the pool (by the reference's CA name) whose key is held."""
    wanted = {r.fingerprint for r in roots if r.root_type == "V2G"}
    for row in store.query("SELECT name, der FROM ca WHERE kind = 'root' AND key_sealed IS NOT"
                           " NULL ORDER BY name"):
        fingerprint = hashlib.sha256(bytes(row["der"])).hexdigest()
        if fingerprint in wanted:
            return fingerprint, pki.issuer_for_signing(store, row["name"])
    raise NotFound("CTL: no certificate trust list is published: the reference holds the key"
                   " of no V2G root in the Root Certificate Pool to sign one")


def _signer(store: Store, roots: list[ctl.CtlRoot], now: dt.datetime
            ) -> tuple[x509.Certificate, PrivateKey]:
    fingerprint, root = _signing_root(store, roots)
    row = store.query_one("SELECT * FROM ctl_signers WHERE root_fingerprint = ?", (fingerprint,))
    if row is not None:
        cert = x509.load_der_x509_certificate(bytes(row["der"]))
        if cert.not_valid_after_utc > now + dt.timedelta(days=VALID_DAYS):
            pem = store.sealer.unseal(bytes(row["key_sealed"]), _seal_context(fingerprint))
            key = serialization.load_pem_private_key(pem, None)
            return cert, key  # type: ignore[return-value]
    cert, key = ctl.issue_signer(root, f"OPCP CTL Signer {fingerprint[:8]}", now=now)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with store.tx() as db:
        db.execute("DELETE FROM ctl_signers WHERE root_fingerprint = ?", (fingerprint,))
        db.execute("INSERT INTO ctl_signers (root_fingerprint, der, key_sealed, created_at)"
                   " VALUES (?,?,?,?)",
                   (fingerprint, cert.public_bytes(serialization.Encoding.DER),
                    store.sealer.seal(pem, _seal_context(fingerprint)), iso_z(now)))
    return cert, key


def published(store: Store, faults: Faults, now: dt.datetime | None = None) -> dict:
    """The CTL to serve now, re-issued first when the pool changed or it is due."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    roots = _listed(store, now)
    digest = _digest(roots)
    last = store.query_one("SELECT * FROM ctl_issues ORDER BY sequence DESC LIMIT 1")
    if last is not None:
        document = json.loads(last["body"])
        next_update = dt.datetime.fromisoformat(document["CTL"]["nextUpdate"].replace("Z", "+00:00"))
        fresh = now < next_update - REISSUE_BEFORE
        if fresh and (last["digest"] == digest or faults.on("ctl-not-reissued")):
            return document
    signer = _signer(store, roots, now)
    with store.tx() as db:
        # Re-read inside the transaction: a concurrent issue takes the next number first.
        top = db.execute("SELECT MAX(sequence) AS s FROM ctl_issues").fetchone()["s"] or 0
        document = ctl.build(roots, sequence=top + 1, issuer=pki.public_url(store),
                             signer=signer, this_update=now,
                             next_update=now + dt.timedelta(days=VALID_DAYS))
        if faults.on("ctl-signature-over-other-content"):
            # Signed, then a listed root's type changed: the signature no longer covers it.
            entry = document["CTL"]["trustedRoots"][0]
            entry["rootType"] = "PE" if entry["rootType"] != "PE" else "MO"
        db.execute("INSERT INTO ctl_issues (sequence, digest, body, issued_at) VALUES (?,?,?,?)",
                   (top + 1, digest, json.dumps(document), iso_z(now)))
    return document

