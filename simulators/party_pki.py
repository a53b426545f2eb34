"""A party's own PKI (an OEM's or an MO's), and the OCSP responder that answers for it.

The suite and the simulated actors act as OEMs and MOs with PKIs of their own: a root,
Sub-CA 1, Sub-CA 2 and leaves made with `v2g.pki` (never reading the target's store). The target must be
able to ask the status of every certificate (PCP control step 3), so each carries the URL
of a small OCSP responder the suite runs for the session on a loopback port. Against a
remote target, set `OPCP_SUITE_OCSP_HOST` to an address of this machine the target can reach
(the responder binds there). Revoking in this responder is how the suite makes a revoked
certificate without any operator action on the target.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509

from v2g.pki.builder import Issued, issue
from v2g.pki.ocsp import GOOD, UNKNOWN, CaIndex, Revoked, Signer, Status, issuer_key_hashes, respond
from v2g.pki.profiles import profile_name

MAX_REQUEST = 16 * 1024


class SuiteOcspResponder:
    """RFC 6960 over HTTP POST (and GET) for every CA the suite registers."""

    def __init__(self, host: str | None = None) -> None:
        self.host = host or os.environ.get("OPCP_SUITE_OCSP_HOST", "127.0.0.1")
        self.cas = CaIndex()
        self.issued: set[tuple[bytes, int]] = set()  # (sha256 issuer key hash, serial)
        self.revoked: dict[tuple[bytes, int], dt.datetime] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((self.host, 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="suite-ocsp")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}/ocsp"

    def start(self) -> SuiteOcspResponder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- state
    def add_ca(self, ca: Issued) -> None:
        assert ca.key is not None
        with self._lock:
            self.cas.add(Signer(ca.cert, ca.key, ca.cert))

    def add_issued(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        with self._lock:
            self.issued.add((issuer_key_hashes(issuer)["sha256"], cert.serial_number))

    def revoke(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        with self._lock:
            self.revoked[(issuer_key_hashes(issuer)["sha256"], cert.serial_number)] = (
                dt.datetime.now(dt.UTC).replace(microsecond=0))

    def status(self, key_hash: bytes, serial: int) -> Status:
        with self._lock:
            ca = self.cas.ca_for(key_hash)
            if ca is None:
                return UNKNOWN
            key = (issuer_key_hashes(ca)["sha256"], serial)
            if key in self.revoked:
                return Revoked(self.revoked[key])
            return GOOD if key in self.issued else UNKNOWN

    def answer(self, request_der: bytes) -> bytes:
        return respond(request_der, self.status, self.cas)

    def _handler_class(self):
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(min(length, MAX_REQUEST))
                self._send(responder.answer(body))

            def _send(self, der: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(der)))
                self.end_headers()
                self.wfile.write(der)

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        return Handler


@dataclass
class OemPki:
    """One OEM hierarchy of the suite: root, Sub-CA 1, Sub-CA 2, and leaves issued on demand."""

    responder: SuiteOcspResponder | None  # None: the certificates name no OCSP responder
    root: Issued
    sub1: Issued
    sub2: Issued
    leaves: dict[str, Issued] = field(default_factory=dict)
    role: str = "oem"
    algorithm: str = "secp256r1"  # secp521r1 or ed448: an ISO 15118-20 hierarchy

    @classmethod
    def build(cls, responder: SuiteOcspResponder | None, name: str, *,
              expired_sub1: bool = False, role: str = "oem", algorithm: str = "secp256r1"
              ) -> OemPki:
        """`role` "oem" makes an OEM hierarchy (provisioning leaves), "mo" an MO hierarchy
        (contract leaves: `leaf` takes an EMAID then). Without a `responder` no certificate
        names an OCSP URL (and none can be revoked). `algorithm` secp521r1 or ed448 makes the
        ISO 15118-20 profiles of the same places."""
        url = responder.url if responder is not None else None
        now = dt.datetime.now(dt.UTC)
        label = role.upper()
        root = issue(profile_name(f"{role}_root", algorithm), f"Suite {label} Root {name}", organization="OPCP Suite")
        if expired_sub1:
            # Expired yesterday; the CAs and leaves below stay valid, so only Sub-CA 1 is wrong.
            sub1 = issue(profile_name(f"{role}_sub1", algorithm), f"Suite {label} Sub1 {name}",
                         root, ocsp_url=url, not_before=now - dt.timedelta(days=400),
                         not_after=now - dt.timedelta(days=1), organization="OPCP Suite")
        else:
            sub1 = issue(profile_name(f"{role}_sub1", algorithm), f"Suite {label} Sub1 {name}",
                         root, ocsp_url=url, organization="OPCP Suite")
        sub2 = issue(profile_name(f"{role}_sub2", algorithm), f"Suite {label} Sub2 {name}", sub1, ocsp_url=url,
                     not_before=now - dt.timedelta(hours=1),
                     not_after=now + dt.timedelta(days=365), organization="OPCP Suite")
        if responder is not None:
            for ca in (root, sub1, sub2):
                responder.add_ca(ca)
            responder.add_issued(sub1.cert, root.cert)
            responder.add_issued(sub2.cert, sub1.cert)
        return cls(responder, root, sub1, sub2, role=role, algorithm=algorithm)

    def leaf(self, pcid: str, key=None, alt_key=None) -> Issued:
        """A provisioning certificate for `pcid` (OEM), or a contract certificate for an EMAID
        (MO), with `key` when the caller made it. An Ed448 provisioning certificate carries an
        X448 key for ECDHE ([V2G20-2534]): `alt_key`'s, or a fresh one (`Issued.alt_key`)."""
        now = dt.datetime.now(dt.UTC)
        profile = profile_name("oem_prov_leaf" if self.role == "oem" else "contract_leaf",
                               self.algorithm)
        url = self.responder.url if self.responder is not None else None
        made = issue(profile, pcid, self.sub2, key=key, alt_key=alt_key, ocsp_url=url,
                     not_before=now - dt.timedelta(hours=1),
                     not_after=now + dt.timedelta(days=300), organization="OPCP Suite")
        if self.responder is not None:
            self.responder.add_issued(made.cert, self.sub2.cert)
        self.leaves[pcid] = made
        return made

    def certify(self, pcid: str, key, alt_key=None) -> list[bytes]:
        """A `simulators.provisioning` source: the leaf for `key` (and, on Ed448, the X448
        `alt_key`), known to the responder, with the sub-CAs."""
        return [self.leaf(pcid, key, alt_key).der, self.sub2.der, self.sub1.der]

    def revoke(self, pcid: str) -> None:
        if self.responder is None:
            raise ValueError("this PKI has no OCSP responder to revoke at")
        self.responder.revoke(self.leaves[pcid].cert, self.sub2.cert)
