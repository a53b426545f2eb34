"""The signed contract data we build is read back bit-exactly by EXIficient."""

from __future__ import annotations

import pytest

from v2g.contract_data import build_installation_req, build_installation_res, encrypt_for_vehicle
from v2g.pki.builder import issue, new_key
from v2g.pki.testpki import TestPki

pytestmark = pytest.mark.oracle


def test_exificient_round_trips_our_signed_messages(exificient):
    pki = TestPki.build(ocsp_signers=False)
    key = new_key()
    leaf = issue("contract_leaf", "DEOPCC0NTRACT2", pki["mo1.sub2"], key=key)
    contract = encrypt_for_vehicle(key, pki["oem1.prov"].der, "DEOPCC0NTRACT2",
                                   [leaf.der, pki["mo1.sub2"].der, pki["mo1.sub1"].der])
    cps = pki.chain("v2g1.cps.leaf")
    res = build_installation_res(contract, [c.der for c in cps], pki["v2g1.cps.leaf"].key)
    req = build_installation_req(pki["oem1.prov"].der, pki["oem1.prov"].key, [pki["v2g1.root"].der])
    for data in (res, req):
        xml = exificient.decode(data, schema="iso2")
        assert exificient.encode(xml, schema="iso2") == data
