"""EST handlers (reference/est.v1.json): one simpleenroll and one cacerts per CA.

Paths: the role table routes both under `/.well-known/est/{ca}/...` (RFC 7030's prefix,
which est.v1.json uses for simpleenroll). est.v1.json writes cacerts without the prefix and
with a trailing slash, and MaEVe calls both without it, so both forms are aliases of the
same operations (docs/errata.md E-EST-1). The request header `Content-Transfer-Encoding`,
which est.v1.json declares required on cacerts, is accepted and not required (E-EST-2).
"""

from __future__ import annotations

from aiohttp import web

from opcp_reference.context import Reference
from opcp_reference.domain import est
from opcp_reference.domain.auth import Principal
from opcp_reference.http.common import OBJECT_IDS


def _pkcs7(text: str, ref: Reference) -> web.Response:
    ctype = ("application/octet-stream" if ref.faults.on("est-wrong-content-type")
             else est.PKCS7_CONTENT_TYPE)
    return web.Response(body=text.encode(), headers={
        "Content-Type": ctype, "Content-Transfer-Encoding": "base64"})


def _enroll(ca: str):
    async def simple_enroll(request: web.Request, ref: Reference, who: Principal):
        text, cert = est.enroll(ref.store, who, ca, request.match_info["isoVersion"],
                                await request.read(), ref.faults)
        request[OBJECT_IDS] = [f"serialNumber={cert.serial_number:x}"]
        return _pkcs7(text, ref)

    return simple_enroll


def _cacerts(ca: str):
    async def ca_certs(request: web.Request, ref: Reference, who: Principal):
        return _pkcs7(est.ca_certs(ref.store, ca, request.match_info["isoVersion"],
                                   request.match_info["algorithm"]), ref)

    return ca_certs


HANDLERS = {}
ALIASES = []
for _ca in est.CAS:
    _up = _ca.upper()
    HANDLERS[f"simpleEnroll-{_up}"] = _enroll(_ca)
    HANDLERS[f"caCerts-{_up}"] = _cacerts(_ca)
    ALIASES += [
        ("POST", f"/{_ca}/simpleenroll/{{isoVersion}}", f"simpleEnroll-{_up}"),
        ("GET", f"/{_ca}/cacerts/{{isoVersion}}/{{algorithm}}", f"caCerts-{_up}"),
        ("GET", f"/{_ca}/cacerts/{{isoVersion}}/{{algorithm}}/", f"caCerts-{_up}"),
        ("GET", f"/.well-known/est/{_ca}/cacerts/{{isoVersion}}/{{algorithm}}/", f"caCerts-{_up}"),
    ]
