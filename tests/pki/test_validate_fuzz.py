"""Bad certificates never crash validation: any byte damage gives a ChainError or a result."""

from __future__ import annotations

import datetime as dt
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v2g.pki.profiles import Role
from v2g.pki.testpki import TestPki
from v2g.pki.validate import ChainError, TrustAnchor, validate_chain

from .spec_certs import spec_cert

_PKI = TestPki.build(ocsp_signers=False)
AT = dt.datetime(2022, 6, 1, tzinfo=dt.UTC)


def _damage(der: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(der)
    for pos, val in edits:
        b[pos % len(b)] = val
    return bytes(b)


# FUZZ_N raises the number of damaged inputs for a long local run.
FUZZ_SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_N", "300")), deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])

edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4)


@FUZZ_SETTINGS
@given(edits, st.sampled_from(["leaf", "sub2"]))
def test_damaged_test_chain(e: list[tuple[int, int]], which: str) -> None:
    chain = [c.der for c in _PKI.chain("mo1.contract")]
    i = 0 if which == "leaf" else 1
    chain[i] = _damage(chain[i], e)
    try:
        validate_chain(chain, [_PKI["mo1.root"].cert], purpose="contract")
    except ChainError:
        pass


@FUZZ_SETTINGS
@given(edits)
def test_damaged_real_non_der_leaf(e: list[tuple[int, int]]) -> None:
    chain = [_damage(spec_cert("CPS 2022.2 QA"), e), spec_cert("Prov Sub2 CA QA G1.1.1")]
    try:
        validate_chain(chain, [TrustAnchor.of(spec_cert("Prov Sub1 CA QA G1.1"), Role.V2G)],
                       purpose="cps", at=AT)
    except ChainError:
        pass
