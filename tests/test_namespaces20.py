"""v2g/namespaces.py: every -20 spelling the spec uses reads as ISO 15118-20 and is stored one
way; keys say which part their certificates belong to (E-NS-1)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448

from v2g import namespaces as ns
from v2g.pki.builder import issue


@pytest.mark.parametrize("value", ns.ISO20_SPELLINGS)
def test_every_20_spelling_is_20_and_stored_one_way(value):
    assert ns.iso_part(value) == "20"
    assert ns.canonical(value) == ns.ISO20_CANONICAL == "urn:iso:15118:20:2022:MsgDef"


def test_the_2_namespace_is_unchanged():
    assert ns.iso_part(ns.ISO2_MSG_DEF) == "2" and ns.canonical(ns.ISO2_MSG_DEF) == ns.ISO2_MSG_DEF


@pytest.mark.parametrize("value", ["urn:iso:15118:20:2023:MsgDef", "", None, 20,
                                   "URN:ISO:15118:2:2013:MSGDEF"])
def test_anything_else_names_no_part(value):
    assert ns.iso_part(value) is None and ns.canonical(value) is None


def test_keys_and_certificates_name_their_part():
    assert ns.iso_part_of_key(ec.generate_private_key(ec.SECP256R1())) == "2"
    assert ns.iso_part_of_key(ec.generate_private_key(ec.SECP521R1()).public_key()) == "20"
    assert ns.iso_part_of_key(ed448.Ed448PrivateKey.generate()) == "20"
    assert ns.iso_part_of_key(ec.generate_private_key(ec.SECP384R1())) is None
    assert ns.iso_part_of_key(x448.X448PrivateKey.generate()) is None  # ECDHE only, no certificates
    assert ns.iso_part_of_key(issue("mo_root_20", "Namespace Test Root").cert) == "20"
    assert ns.iso_part_of_key(issue("mo_root", "Namespace Test Root").cert) == "2"
