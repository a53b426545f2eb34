"""OCSP client: ask the URL in a certificate's AIA for its status, verify, cache.

``OcspClient(httpx.Client()).status(cert, issuer)`` builds the request (SHA-1 CertID, as
most responders expect, plus a nonce), POSTs it (or GETs, RFC 6960 Appendix A.1), checks
the response with ``v2g.pki.ocsp.verify_response`` and caches the verified answer until
its nextUpdate. ``AsyncOcspClient`` does the same with ``httpx.AsyncClient``.

The one OCSP client of the project: the reference's pools ask responders through it too
(``cache=False``, so a revocation shows at the very next check; ``local`` answers the
requests for a responder that lives in the same process without a round trip).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable
from urllib.parse import quote

import httpx
from cryptography import x509

from opcp.tls_context import client_context
from v2g.pki.certinfo import read_cert
from v2g.pki.ocsp import OcspError, OcspResult, build_request, issuer_key_hashes, verify_response

__all__ = ["AsyncOcspClient", "OcspClient", "OcspError", "OcspResult"]

Clock = Callable[[], dt.datetime]
# Answers a request for the responder at a URL in-process, or None to ask over HTTP.
LocalResponder = Callable[[str, bytes], bytes | None]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Base:
    def __init__(self, *, method: str = "POST", url: str | None = None, clock: Clock = _utcnow,
                 nonce: bool = True, cache: bool = True, local: LocalResponder | None = None
                 ) -> None:
        if method not in ("POST", "GET"):
            raise ValueError("method is POST or GET")
        self.method = method
        self.url = url  # overrides the AIA URL (e.g. a local responder)
        self.clock = clock
        self.nonce = nonce
        self.cache = cache
        self.local = local
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
                 ) -> tuple[str, dict, bytes | None, bytes | None]:
        """The HTTP request to send, the nonce, and the answer when `local` gave one."""
        url = self.url or next(iter(read_cert(cert).ocsp_urls), None)
        if not url:
            raise OcspError("certificate", "aia.missing",
                            "has no OCSP URL in authorityInformationAccess")
        nonce = os.urandom(16) if self.nonce else None
        der = build_request(cert, issuer, nonce=nonce)
        answer = self.local(url, der) if self.local is not None else None
        if self.method == "GET":
            path = quote(base64.b64encode(der).decode(), safe="")
            return "GET", {"url": url.rstrip("/") + "/" + path}, nonce, answer
        return "POST", {"url": url, "content": der,
                        "headers": {"Content-Type": "application/ocsp-request"}}, nonce, answer

    def _finish(self, key: tuple[bytes, int], answer: bytes, cert: x509.Certificate,
                issuer: x509.Certificate, nonce: bytes | None) -> OcspResult:
        result = verify_response(answer, cert, issuer, nonce=nonce, now=self.clock())
        if self.cache and result.next_update is not None:
            self._cache[key] = result
        return result

    @staticmethod
    def _content(url: str, resp: httpx.Response) -> bytes:
        if resp.status_code != 200:
            raise OcspError("http", "http.status", f"{url} answered HTTP {resp.status_code}")
        return resp.content

    def clear(self) -> None:
        self._cache.clear()


class OcspClient(_Base):
    def __init__(self, http: httpx.Client | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.http = http or httpx.Client(timeout=10, verify=client_context())

    def status(self, cert: x509.Certificate, issuer: x509.Certificate) -> OcspResult:
        key = self._key(cert, issuer)
        hit = self._cached(key)
        if hit is not None:
            return hit
        method, kw, nonce, answer = self._prepare(cert, issuer)
        if answer is None:
            try:
                answer = self._content(kw["url"], self.http.request(method, **kw))
            except httpx.HTTPError as exc:
                raise OcspError("http", "http.transport", f"{kw['url']}: {exc}") from exc
        return self._finish(key, answer, cert, issuer, nonce)


class AsyncOcspClient(_Base):
    """Without an `http` client of its own it opens one per request (and closes it), so it
    can be used from any event loop."""

    def __init__(self, http: httpx.AsyncClient | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.http = http

    async def status(self, cert: x509.Certificate, issuer: x509.Certificate) -> OcspResult:
        key = self._key(cert, issuer)
        hit = self._cached(key)
        if hit is not None:
            return hit
        method, kw, nonce, answer = self._prepare(cert, issuer)
        if answer is None:
            http = self.http or httpx.AsyncClient(timeout=10, verify=client_context())
            try:
                answer = self._content(kw["url"], await http.request(method, **kw))
            except httpx.HTTPError as exc:
                raise OcspError("http", "http.transport", f"{kw['url']}: {exc}") from exc
            finally:
                if self.http is None:
                    await http.aclose()
        return self._finish(key, answer, cert, issuer, nonce)
