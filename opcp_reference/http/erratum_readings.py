"""The reference answering another reading of an erratum: the conformant variants of
`opcp_reference.faults.VARIANTS` that change the form of a JSON answer.

Guarantees:
- with none of these variants on, an answer passes through untouched (not even re-encoded);
- an answer is rewritten only where `opcp.models.errata.ALTERNATIVES` has a row for the
  erratum and the model the operation answers with that status: the variant never answers a
  form the suite's table does not know as a reading of the spec;
- names change as the row says (`rename`); values the row retypes are rewritten to what the
  other reading means (E-CPS-1: the V2G root's SHA-256 instead of its RCP id; E-CCP-1: the
  two fields as ccp.v1.json's swapped patterns have them).
"""

from __future__ import annotations

import json

from aiohttp import web

from opcp.models import OPERATION_MODELS
from opcp.models.errata import ALTERNATIVES, Alternative
from opcp_reference.context import Reference
from opcp_reference.faults import Faults
from opcp_reference.store import Store

# The conformant variant that answers each erratum's other reading.
ERRATUM_OF_VARIANT = {
    "cps-fingerprint-as-sha256": "E-CPS-1",
    "lookup-contract-swapped-patterns": "E-CCP-1",
    "pcp-announced-field-names": "E-PCP-2",
}
FINGERPRINT, DN = "cpsV2GRootCertificateFingerprint", "cpsRootCertificateDN"


def _walk(node: object, change) -> object:
    """A copy of `node` with `change(dict)` applied to every object in it, innermost first."""
    if isinstance(node, list):
        return [_walk(item, change) for item in node]
    if isinstance(node, dict):
        return change({key: _walk(value, change) for key, value in node.items()})
    return node


def _renamed(store: Store, body: object, alt: Alternative) -> object:
    return _walk(body, lambda d: {alt.rename.get(k, k): v for k, v in d.items()})


def _sha256_fingerprints(store: Store, body: object, alt: Alternative) -> object:
    """E-CPS-1's description: the SHA-256 of the V2G root (hex pairs with colons, upper case:
    the pattern of the alternative allows both separators and both cases)."""
    def change(d: dict) -> dict:
        row = store.query_one("SELECT fingerprint FROM root_certs WHERE id = ?",
                              (d[FINGERPRINT],)) if isinstance(d.get(FINGERPRINT), str) else None
        if row is not None:
            hexed = str(row["fingerprint"]).upper()
            d[FINGERPRINT] = ":".join(hexed[i:i + 2] for i in range(0, len(hexed), 2))
        return d
    return _walk(body, change)


def _swapped(store: Store, body: object, alt: Alternative) -> object:
    """E-CCP-1 as ccp.v1.json's patterns have it: the root's id in the DN's field, the DN in
    the fingerprint's."""
    def change(d: dict) -> dict:
        if FINGERPRINT in d and DN in d:
            d[FINGERPRINT], d[DN] = d[DN], d[FINGERPRINT]
        return d
    return _walk(body, change)


REWRITE = {"E-CPS-1": _sha256_fingerprints, "E-CCP-1": _swapped, "E-PCP-2": _renamed}


def answer(ref: Reference, operation: str, response: web.StreamResponse) -> web.StreamResponse:
    """The handler's `response` to `operation` as the reference's switches have it."""
    return rewritten(ref.store, ref.faults, operation, response)


def rewritten(store: Store, faults: Faults, operation: str, response: web.StreamResponse
              ) -> web.StreamResponse:
    """`response` in the other reading of every erratum whose variant is on, where the
    operation's model for its status has a row for it."""
    errata = [e for variant, e in ERRATUM_OF_VARIANT.items() if faults.on(variant)]
    if not errata or not isinstance(response, web.Response) or response.body is None \
            or response.content_type != "application/json":
        return response
    model = OPERATION_MODELS[operation].responses.get(response.status) \
        if operation in OPERATION_MODELS else None
    rows = [alt for alt in ALTERNATIVES if alt.erratum in errata and alt.model == model]
    if not rows:
        return response
    body = json.loads(response.body)
    for alt in rows:
        body = REWRITE[alt.erratum](store, body, alt)
    headers = {k: v for k, v in response.headers.items()
               if k.lower() not in ("content-type", "content-length")}
    return web.json_response(body, status=response.status, headers=headers)
