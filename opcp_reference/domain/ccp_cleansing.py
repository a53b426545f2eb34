"""Data cleansing of the Contract Certificate Pool (docs/components/04: "The Contract
Certificate Pool should be cleaned regularly").

A pooled contract whose contract certificate has expired, or whose OCSP responder says it is
revoked, can never be installed: no vehicle may be sent it. Cleansing deletes it as the
owning MO's delete would (oem.contract.deleted toward the OEM, and the MO's
mo.contract.deleted.sent.to.oem once the OEM accepted it). A certificate without an OCSP URL
is judged by its validity alone; a responder that cannot be asked deletes nothing (the next
run tries again), as the PCP's cleansing does.
"""

from __future__ import annotations

import datetime as dt
import logging

from cryptography import x509

from opcp_reference.domain import ccp
from opcp_reference.domain.pki import StatusChecker
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g.contract_data import read_installation_res
from v2g.pki.ocsp import OcspError, Revoked

log = logging.getLogger("opcp.reference.ccp")


async def _reason(row, checker: StatusChecker, now: dt.datetime) -> str | None:
    """Why the pooled contract must go, or None to keep it."""
    cert = x509.load_der_x509_certificate(bytes(row["contract_der"]))
    if cert.not_valid_after_utc < now:
        return f"the contract certificate expired on {cert.not_valid_after_utc.isoformat()}"
    # The issuer (the MO Sub-CA 2) travels in the stored CertificateInstallationRes.
    res, _ = read_installation_res(bytes(row["res_exi"]))
    subs = res.contract_signature_cert_chain.sub_certificates
    if not subs:
        return None
    try:
        result = await checker.status(cert, x509.load_der_x509_certificate(subs[0]))
    except OcspError as exc:
        if exc.rule != "aia.missing":
            log.warning("cleansing kept %s/%s: %s", row["emaid"], row["pcid"], exc.detail)
        return None
    if isinstance(result.status, Revoked):
        return f"the contract certificate is revoked (OCSP, since {result.status.time.isoformat()})"
    return None


async def cleanse(store: Store, checker: StatusChecker, now: dt.datetime | None = None,
                  faults: Faults | None = None) -> list[tuple[str, str, str]]:
    """Delete expired and revoked contracts; returns (emaid, pcid, reason) per deletion."""
    now = now or dt.datetime.now(dt.UTC)
    judged = []
    for row in store.query("SELECT * FROM contracts ORDER BY seq"):
        reason = await _reason(row, checker, now)
        if reason is not None:
            judged.append((row, reason))
    done: list[tuple[str, str, str]] = []
    with store.tx() as db:
        # Only the rows as judged: one replaced meanwhile is the MO's newer contract. One
        # removal for all, so an EMAID pooled under several V2G roots is announced once.
        rows = []
        for row, reason in judged:
            current = db.execute("SELECT * FROM contracts WHERE seq = ? AND updated_at = ?",
                                 (row["seq"], row["updated_at"])).fetchone()
            if current is not None:
                rows.append(current)
                done.append((row["emaid"], row["pcid"], reason))
                log.info("cleansing deletes %s for PCID %s: %s", row["emaid"], row["pcid"],
                         reason)
        if rows:
            ccp.remove_rows(db, rows, faults or Faults(), revoke=False)
    return done
