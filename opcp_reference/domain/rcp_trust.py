"""The Root Certificate Pool as a trust store: what every service validates chains against.

Guarantees:
- the roots are the ones the RCP holds at the moment of the call: a root added or deleted
  shows at the very next call of any service, in any instance sharing the store;
- parsed roots and trust stores are kept per RCP state, named by the store's version of the
  root_certs table (`Store.changes_of`: it moves at every commit that wrote the table, by
  this process or, heard through LISTEN/NOTIFY, by another instance), so a vehicle request
  neither parses a root nor asks the database which roots there are;
- a chain through a cross-certificate is accepted exactly when a root of the pool carries
  that cross-certificate in its crossCertificatePair;
- `validate` raises `BadRequest` naming the field at the failing position of the chain and the
  rule it broke; on success it returns the RCP row of the anchor that chain validation found.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from cryptography import x509

from opcp.errors import BadRequest
from opcp_reference.store import Store
from v2g.pki.cross import decode_pair
from v2g.pki.validate import (
    ChainError,
    Purpose,
    TrustAnchor,
    TrustStore,
    validate_chain,
    verify_signed_by,
)

Root = tuple[sqlite3.Row, x509.Certificate]

_ROOTS: dict[tuple, list[Root]] = {}
_TRUST: dict[tuple, TrustStore] = {}
_KEPT = 64  # states kept before the caches start afresh


def roots(store: Store) -> tuple[tuple, list[Root]]:
    """The RCP's roots, parsed, and the key naming this state of the RCP."""
    key = store.changes_of("root_certs")
    if key not in _ROOTS:
        if len(_ROOTS) > _KEPT:
            _ROOTS.clear()
        rows = store.query("SELECT * FROM root_certs ORDER BY id")
        _ROOTS[key] = [(r, x509.load_der_x509_certificate(bytes(r["der"]))) for r in rows]
    return key, _ROOTS[key]


def _trust(key: tuple, parsed: list[Root], types: tuple[str, ...]) -> TrustStore:
    if (key, types) not in _TRUST:
        if len(_TRUST) > _KEPT:
            _TRUST.clear()
        _TRUST[(key, types)] = TrustStore(
            (TrustAnchor.of(cert, row["root_type"].lower())
             for row, cert in parsed if row["root_type"] in types),
            # The pool's cross-certificates: a path through one is accepted, and only then.
            cross=[c for row, _ in parsed if row["cross_pair"] is not None
                   for c in decode_pair(bytes(row["cross_pair"])).certificates()])
    return _TRUST[(key, types)]


def trust_store(store: Store, types: tuple[str, ...]) -> TrustStore:
    """The trust store of the RCP roots of `types` (root types as the RCP names them)."""
    return _trust(*roots(store), types)


def root_of(store: Store, top: x509.Certificate, types: tuple[str, ...] | None = None) -> Root | None:
    """The RCP root (of `types`, if given) whose key signed `top`, the topmost certificate of a
    chain; None when no root did."""
    for row, root in roots(store)[1]:
        if root.subject != top.issuer or (types is not None and row["root_type"] not in types):
            continue
        try:
            top.verify_directly_issued_by(root)
        except Exception:  # noqa: BLE001 - wrong key or algorithm: another root of that name
            continue
        return row, root
    return None


def validate(store: Store, chain: Sequence[bytes | x509.Certificate], purpose: Purpose,
             types: tuple[str, ...], fields: Sequence[str], at: dt.datetime | None = None,
             iso: str = "2") -> sqlite3.Row:
    """Validate `chain` (leaf first) to a root of `types` in the RCP, as a chain of ISO 15118
    part `iso`; the anchor's RCP row."""
    key, parsed = roots(store)
    try:
        result = validate_chain(list(chain), _trust(key, parsed, types), purpose=purpose,
                                at=at or dt.datetime.now(dt.UTC), iso=iso)
    except ChainError as exc:
        field = fields[exc.position] if exc.position < len(fields) else "root"
        raise BadRequest(f"{field}: {exc.detail} [{exc.rule}] (the chain must lead to a root of"
                         f" type {' or '.join(types)} in the Root Certificate Pool)") from None
    return next(row for row, cert in parsed if cert == result.anchor.cert)


def vouching_roots(store: Store, root: x509.Certificate) -> list[x509.Certificate]:
    """The roots of the RCP that vouch for `root` by a cross-certificate the RCP carries: a
    party trusting one of them validates `root`'s chains through it."""
    _, parsed = roots(store)
    crosses = [c for row, _ in parsed if row["cross_pair"] is not None
               for c in decode_pair(bytes(row["cross_pair"])).certificates()
               if c.subject == root.subject and c.public_key() == root.public_key()]
    return [cert for _, cert in parsed for c in crosses
            if cert.subject == c.issuer and verify_signed_by(c, cert.public_key())]
