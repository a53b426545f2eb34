"""ISO 15118-20 signatures against EXIficient: the bytes we digest and sign are EXIficient's.

For the signed CertificateInstallationReq and CertificateInstallationRes (secp521r1 and Ed448):
the referenced element as a CommonMessages fragment, SignedInfo as an xmldsig fragment and the
whole message as a document are byte-identical with EXIficient's encodings of the same XML,
and the DigestValue in the message is the digest of EXIficient's fragment bytes.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
from exi.iso20_samples import installation_req, installation_res  # tests/ is on sys.path (tests/exi)

from v2g import xmldsig
from v2g.exi import decode, encode, exi_to_xml

from .exificient import Exificient

pytestmark = pytest.mark.oracle

CM = "urn:iso:std:iso:15118:-20:CommonMessages"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
SIGNED = {"CertificateInstallationReq": "OEMProvisioningCertificateChain",
          "CertificateInstallationRes": "SignedInstallationData"}
DIGEST = {"secp521r1": lambda b: hashlib.sha512(b).digest(), "ed448": lambda b: hashlib.shake_256(b).digest(64)}


@pytest.mark.parametrize("kind", ["secp521r1", "ed448"])
@pytest.mark.parametrize("message", sorted(SIGNED))
def test_signed_parts_are_exificient_bytes(exificient: Exificient, message: str, kind: str) -> None:
    build = installation_req if message.endswith("Req") else installation_res
    root, _ = build(kind)
    whole = encode(root, "iso20-common")
    assert exificient.encode(ET.tostring(root, encoding="unicode"), schema="iso20-common") == whole
    assert exificient.encode(exi_to_xml(whole, "iso20-common"), schema="iso20-common") == whole

    signed = root.find(f"{{{CM}}}{SIGNED[message]}")
    assert signed is not None
    theirs = exificient.encode(ET.tostring(signed, encoding="unicode"), schema="iso20-common", fragment=True)
    assert encode(signed, "iso20-common", fragment=True) == theirs
    digest = base64.b64decode(root.findtext(f".//{DS}DigestValue") or "")
    assert DIGEST[kind](theirs) == digest

    si = root.find(f".//{DS}SignedInfo")
    assert si is not None
    theirs_si = exificient.encode(ET.tostring(si, encoding="unicode"), schema="xmldsig", fragment=True)
    assert xmldsig.signed_info_octets(si) == theirs_si
    # what EXIficient decodes from our bytes still verifies
    again = decode(exificient.encode(exificient.decode(whole, schema="iso20-common"), schema="iso20-common"),
                   "iso20-common")
    assert xmldsig.verify(again).valid
