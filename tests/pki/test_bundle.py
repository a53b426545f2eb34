"""PKCS#7 and PEM bundles, and leaf-first ordering."""

from __future__ import annotations

import base64
import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from v2g.pki.bundle import BundleError, load_certs, order_chain
from v2g.pki.testpki import TestPki


def test_forms_and_order(pki: TestPki) -> None:
    chain = [i.cert for i in pki.chain("oem1.prov")] + [pki["oem1.root"].cert]
    shuffled = chain[:]
    random.Random(7).shuffle(shuffled)
    der = pkcs7.serialize_certificates(shuffled, serialization.Encoding.DER)
    pem = pkcs7.serialize_certificates(shuffled, serialization.Encoding.PEM)
    b64 = base64.encodebytes(der)  # with line breaks every 76 characters
    certs_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in shuffled)
    for form in (der, pem, b64, b"\r\n" + b64.replace(b"\n", b"\r\n"), certs_pem):
        got = load_certs(form)
        assert set(got) == set(chain)
        assert order_chain(got) == chain
    assert load_certs(chain[0].public_bytes(serialization.Encoding.DER)) == [chain[0]]
    assert order_chain(chain + chain[:1]) == chain  # duplicates dropped


def test_bad_bundles(pki: TestPki) -> None:
    for data, rule in [(b"%%%", "bundle.base64"), (b"\x30\x03\x02\x01\x00", "bundle.encoding")]:
        with pytest.raises(BundleError) as info:
            load_certs(data)
        assert info.value.rule == rule
    with pytest.raises(BundleError) as info:
        order_chain([pki["oem1.prov"].cert, pki["mo1.contract"].cert])
    assert info.value.rule == "bundle.path"
    with pytest.raises(BundleError) as info:
        order_chain([pki["oem1.prov"].cert, pki["oem1.sub1"].cert])  # Sub-CA 2 missing
    assert info.value.rule == "bundle.path"
    with pytest.raises(BundleError):
        order_chain([])


def test_der_ending_in_a_whitespace_byte_is_not_cut(pki: TestPki) -> None:
    # Find (or make) a certificate whose DER ends in a byte that bytes.strip() would remove.
    from v2g.pki.builder import issue

    for _ in range(2000):
        leaf = issue("oem_prov_leaf", "OPCVIN00000000077", pki["oem1.sub2"])
        if leaf.der[-1:] in (b"\n", b" ", b"\t", b"\r", b"\x0b", b"\x0c"):
            break
    else:
        pytest.skip("no whitespace-ending signature in 2,000 tries")
    assert load_certs(leaf.der) == [leaf.cert]
