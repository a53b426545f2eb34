"""OCSP client: ask the URL in a certificate's AIA for its status, verify, cache.

``OcspClient(httpx.Client()).status(cert, issuer)`` builds the request (SHA-1 CertID, as
most responders expect, plus a nonce), POSTs it (or GETs, RFC 6960 Appendix A.1), checks
the response with ``v2g.pki.ocsp.verify_response`` and caches the verified answer until
its nextUpdate. ``AsyncOcspClient`` does the same with ``httpx.AsyncClient``.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable
from urllib.parse import quote

import httpx
from cryptography import x509

from v2g.pki.certinfo import read_cert
from v2g.pki.ocsp import OcspError, OcspResult, build_request, issuer_key_hashes, verify_response

__all__ = ["AsyncOcspClient", "OcspClient", "OcspError", "OcspResult"]

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Base:
    def __init__(self, *, method: str = "POST", url: str | None = None, clock: Clock = _utcnow,
                 nonce: bool = True) -> None:
        if method not in ("POST", "GET"):
            raise ValueError("method is POST or GET")
        self.method = method
        self.url = url  # overrides the AIA URL (e.g. a local responder)
        self.clock = clock
        self.nonce = nonce
        self._cache: dict[tuple[bytes, int], OcspResult] = {}

    def _key(self, cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bytes, int]:
        return issuer_key_hashes(issuer)["sha256"], cert.serial_number

    def _cached(self, key: tuple[bytes, int]) -> OcspResult | None:
        hit = self._cache.get(key)
        if hit is not None and hit.next_update is not None and self.clock() < hit.next_update:
            return hit
        self._cache.pop(key, None)
        return None

    def _prepare(self, cert: x509.Certificate, issuer: x509.Certificate
                 ) -> tuple[str, dict, bytes | None]:
        url = self.url or next(iter(read_cert(cert).ocsp_urls), None)
        if not url:
            raise OcspError("certificate", "aia.missing",
                            "the certificate has no OCSP URL in authorityInformationAccess")
        nonce = os.urandom(16) if self.nonce else None
        der = build_request(cert, issuer, nonce=nonce)
        if self.method == "GET":
            path = quote(base64.b64encode(der).decode(), safe="")
            return "GET", {"url": url.rstrip("/") + "/" + path}, nonce
        return "POST", {"url": url, "content": der,
                        "headers": {"Content-Type": "application/ocsp-request"}}, nonce

    def _finish(self, key: tuple[bytes, int], resp: httpx.Response, cert: x509.Certificate,
                issuer: x509.Certificate, nonce: bytes | None) -> OcspResult:
        if resp.status_code != 200:
            raise OcspError("http", "http.status", f"responder answered HTTP {resp.status_code}")
        result = verify_response(resp.content, cert, issuer, nonce=nonce, now=self.clock())
        if result.next_update is not None:
            self._cache[key] = result
        return result

    def clear(self) -> None:
        self._cache.clear()


class OcspClient(_Base):
    def __init__(self, http: httpx.Client | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.http = http or httpx.Client(timeout=10)

    def status(self, cert: x509.Certificate, issuer: x509.Certificate) -> OcspResult:
        key = self._key(cert, issuer)
        hit = self._cached(key)
        if hit is not None:
            return hit
        method, kw, nonce = self._prepare(cert, issuer)
        try:
            resp = self.http.request(method, **kw)
        except httpx.HTTPError as exc:
            raise OcspError("http", "http.transport", str(exc)) from exc
        return self._finish(key, resp, cert, issuer, nonce)


class AsyncOcspClient(_Base):
    def __init__(self, http: httpx.AsyncClient | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.http = http or httpx.AsyncClient(timeout=10)

    async def status(self, cert: x509.Certificate, issuer: x509.Certificate) -> OcspResult:
        key = self._key(cert, issuer)
        hit = self._cached(key)
        if hit is not None:
            return hit
        method, kw, nonce = self._prepare(cert, issuer)
        try:
            resp = await self.http.request(method, **kw)
        except httpx.HTTPError as exc:
            raise OcspError("http", "http.transport", str(exc)) from exc
        return self._finish(key, resp, cert, issuer, nonce)
