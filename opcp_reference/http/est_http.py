"""EST handlers (reference/est.v1.json): one simpleenroll and one cacerts per CA.

Paths: the role table routes both under `/.well-known/est/{ca}/...` (RFC 7030's prefix,
which est.v1.json uses for simpleenroll). est.v1.json writes cacerts without the prefix and
with a trailing slash, and MaEVe calls both without it, so both forms are aliases of the
same operations (docs/errata.md E-EST-1). The request header `Content-Transfer-Encoding`,
which est.v1.json declares required on cacerts, is accepted and not required (E-EST-2).

Paths only some clients call are aliases with a habit (opcp_reference/compat.py): CitrineOS's
`/.well-known/{ca}/cacerts` and `/.well-known/{ca}/simpleenroll` (no est/, no iso-version:
ISO15118-2), MaEVe's `/{ca}/simpleenroll/{iso}` and `/{ca}/cacerts/{iso}` (no algorithm: the
CA's curve). Each request through them is a compatibility finding, refused when strict.
Containers list their certificates leaf first, root last (habit `est-chain-leaf-first`);
strict, they keep DER's sorted order.
"""

from __future__ import annotations

import base64

from aiohttp import web
from cryptography.hazmat.primitives.serialization import pkcs7

from opcp.access import EST_PREFIXED_CAS
from opcp_reference.certs_only import certs_only_in_order
from opcp_reference.compat import Alias, refuses
from opcp_reference.context import Reference
from opcp_reference.domain import est
from opcp_reference.domain.auth import Principal
from opcp_reference.http.request_scope import OBJECT_IDS


def _pkcs7(text: str, ref: Reference) -> web.Response:
    ctype = ("application/octet-stream" if ref.faults.on("est-wrong-content-type")
             else est.PKCS7_CONTENT_TYPE)
    text = _listed_for_readers_by_position(text, ref)
    return web.Response(body=text.encode(), headers={
        "Content-Type": ctype, "Content-Transfer-Encoding": "base64"})


def _listed_for_readers_by_position(text: str, ref: Reference) -> str:
    """The container re-listed leaf first, root last (each certificate followed by its
    issuer), which clients reading by position expect; strict, DER's sorted order stays. The
    fault `est-chain-root-first` lists it root first instead."""
    certs = pkcs7.load_der_pkcs7_certificates(base64.b64decode(text))
    if len(certs) < 2 or ref.strict:
        return text
    by_subject = {c.subject: c for c in certs}
    issuers = {c.issuer for c in certs if c.issuer != c.subject}
    chain = [next(c for c in certs if c.subject not in issuers)]
    while chain[-1].issuer != chain[-1].subject and chain[-1].issuer in by_subject:
        chain.append(by_subject[chain[-1].issuer])
    if len(chain) != len(certs):
        return text  # not one path: no position to serve
    if refuses(ref, "est-chain-leaf-first"):
        chain.reverse()
    # The habit is served to every client alike, so it is documented (docs/clients.md), not
    # recorded per request: nothing in a request shows whether its client reads by position.
    der = certs_only_in_order(chain)
    encoded = base64.b64encode(der).decode()
    return "\n".join(encoded[i:i + 64] for i in range(0, len(encoded), 64)) + "\n"


def _enroll(ca: str):
    async def simple_enroll(request: web.Request, ref: Reference, who: Principal):
        text, cert = est.enroll(ref.store, who, ca, request.match_info["isoVersion"],
                                await request.read(), ref.faults)
        request[OBJECT_IDS] = [f"serialNumber={cert.serial_number:x}"]
        return _pkcs7(text, ref)

    return simple_enroll


def _cacerts(ca: str):
    async def ca_certs(request: web.Request, ref: Reference, who: Principal):
        iso = request.match_info["isoVersion"]
        # An alias without {algorithm}: the CA's curve, the first this ecosystem offers.
        algorithm = request.match_info.get("algorithm") or est.default_algorithm(iso)
        return _pkcs7(est.ca_certs(ref.store, ca, iso, algorithm), ref)

    return ca_certs


HANDLERS = {}
ALIASES: list[Alias] = []
_ISO2 = {"isoVersion": "ISO15118-2"}
for _ca in est.CAS:
    _up = _ca.upper()
    _enroll_op, _cacerts_op = f"simpleEnroll-{_up}", f"caCerts-{_up}"
    HANDLERS[_enroll_op] = _enroll(_ca)
    HANDLERS[_cacerts_op] = _cacerts(_ca)
    ALIASES += [
        # The spec's own cacerts path and its slash variants (E-EST-1).
        Alias("GET", f"/{_ca}/cacerts/{{isoVersion}}/{{algorithm}}", _cacerts_op),
        Alias("GET", f"/{_ca}/cacerts/{{isoVersion}}/{{algorithm}}/", _cacerts_op),
        Alias("GET", f"/.well-known/est/{_ca}/cacerts/{{isoVersion}}/{{algorithm}}/", _cacerts_op),
        # Client habits.
        Alias("POST", f"/{_ca}/simpleenroll/{{isoVersion}}", _enroll_op, "est-no-prefix"),
        Alias("GET", f"/{_ca}/cacerts/{{isoVersion}}", _cacerts_op, "est-no-algorithm"),
        Alias("GET", f"/.well-known/est/{_ca}/cacerts/{{isoVersion}}", _cacerts_op,
              "est-no-algorithm"),
        Alias("POST", f"/.well-known/{_ca}/simpleenroll", _enroll_op, "est-well-known-short",
              _ISO2),
        Alias("GET", f"/.well-known/{_ca}/cacerts", _cacerts_op, "est-well-known-short",
              _ISO2),
    ]

# One CA per V2G root under a prefixed name (opcp.access.EST_PREFIXED_CAS): the same handlers,
# and the spec's own cacerts path for each.
for _prefix, _cas in EST_PREFIXED_CAS.items():
    for _ca in _cas:
        _name, _up = f"{_prefix}-{_ca}", f"{_prefix.upper()}-{_ca.upper()}"
        HANDLERS[f"simpleEnroll-{_up}"] = _enroll(_name)
        HANDLERS[f"caCerts-{_up}"] = _cacerts(_name)
        ALIASES += [Alias("GET", f"/{_name}/cacerts/{{isoVersion}}/{{algorithm}}", f"caCerts-{_up}"),
                    Alias("GET", f"/{_name}/cacerts/{{isoVersion}}/{{algorithm}}/", f"caCerts-{_up}")]
