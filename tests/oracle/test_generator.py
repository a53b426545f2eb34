"""The generator produces valid messages and reaches every decision point.

Three independent checks, each able to fail on its own: xmlschema validation
of every message, full coverage of the decision universe, and an oracle round
trip (encode, decode, encode: same bytes, no error) of every message.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from .corpus import ISO20_SET_IDS, SETS, Generated
from .differential import FAILURE_ROOT as REPORTS
from .exificient import Exificient, OracleError
from .generator import Coverage, generate, load_schema, roots

pytestmark = [pytest.mark.oracle, pytest.mark.slow]  # the generated corpus through EXIficient

SET_IDS = [s.id for s in SETS]


def test_corpus_is_large_enough(corpus: dict[str, Generated]) -> None:
    assert len(corpus["iso2-doc"].messages) >= 2000
    assert sum(len(g.messages) for g in corpus.values()) >= 2500
    assert sum(len(corpus[s].messages) for s in ISO20_SET_IDS) >= 2000


@pytest.mark.parametrize("set_id", SET_IDS)
def test_coverage_is_complete(corpus: dict[str, Generated], set_id: str) -> None:
    cov = corpus[set_id].coverage
    # For humans: what was hit, per kind of decision and per message type.
    out = REPORTS / f"coverage-{set_id}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(cov.report(), indent=1), encoding="utf-8")
    assert not cov.unknown(), f"generator took decisions the universe walk does not know: {cov.unknown()[:5]}"
    missing = [f"{'/'.join(k)} = {o}" for k, o in cov.missing()]
    assert not missing, f"{set_id}: {len(missing)} uncovered options: {missing[:20]}"
    assert {"element", "occurs", "value"} <= {k[0] for k in cov.universe}


def test_every_message_type_of_msgbody(corpus: dict[str, Generated]) -> None:
    members = load_schema("iso2").maps.substitution_groups["{urn:iso:15118:2:2013:MsgBody}BodyElement"]
    expected = {m.local_name for m in members} | {"EmptyBody"}
    assert len(expected) == 35  # 34 message types (AC and DC, req and res) + empty Body
    seen = corpus["iso2-doc"].coverage.messages
    assert set(seen) == expected
    assert min(seen.values()) >= 20, "message types should be evenly spread"


@pytest.mark.parametrize("set_id", [s for s in ISO20_SET_IDS if not s.endswith("-fragment")])
def test_every_iso20_message_of_the_namespace(corpus: dict[str, Generated], set_id: str) -> None:
    g = corpus[set_id]
    expected = {r.local_name for r in roots(g.set.schema, False)}
    counts = {"iso20-common": 26, "iso20-dc": 10, "iso20-ac": 4, "iso20-acdp": 8, "iso20-wpt": 12, "iso20-app": 2}
    assert len(expected) == counts[g.set.schema]
    seen = g.coverage.messages
    assert set(seen) == expected
    assert min(seen.values()) >= 20, "message types should be evenly spread"


def test_iso20_signed_fragments(corpus: dict[str, Generated]) -> None:
    assert set(corpus["iso20-common-fragment"].coverage.messages) == {
        "OEMProvisioningCertificateChain", "SignedInstallationData", "PnC_AReqAuthorizationMode",
        "SignedMeteringData", "AbsolutePriceSchedule", "PriceLevelSchedule"}


def test_app_and_fragment_roots(corpus: dict[str, Generated]) -> None:
    assert set(corpus["app-doc"].coverage.messages) == {"supportedAppProtocolReq", "supportedAppProtocolRes"}
    assert set(corpus["xmldsig-fragment"].coverage.messages) == {"SignedInfo"}
    signed = set(corpus["iso2-fragment"].coverage.messages)
    assert {"ContractSignatureCertChain", "ContractSignatureEncryptedPrivateKey", "DHpublickey", "eMAID",
            "SalesTariff", "AuthorizationReq", "CertificateInstallationReq", "MeteringReceiptReq"} <= signed


@pytest.mark.parametrize("set_id", SET_IDS)
def test_messages_are_schema_valid(corpus: dict[str, Generated], set_id: str) -> None:
    g = corpus[set_id]
    schema = load_schema(g.set.schema)
    decls = {r.local_name: r for r in roots(g.set.schema, g.set.fragment)}
    invalid = []
    for name, xml in g.messages:
        if g.set.fragment:  # local elements have no global declaration to validate against
            ok = decls[name.removesuffix("+undeclared")].is_valid(ET.fromstring(xml))
        else:
            ok = schema.is_valid(xml)
        if not ok:
            invalid.append(name)
    assert not invalid, f"{len(invalid)} invalid, e.g. {invalid[:5]}"


def test_validation_would_catch_a_broken_message(corpus: dict[str, Generated]) -> None:
    """The validity check above can fail: swap Header and Body of a message."""
    schema = load_schema("iso2")
    root = ET.fromstring(corpus["iso2-doc"].messages[1][1])
    header, body = list(root)
    root[:] = [body, header]
    assert not schema.is_valid(ET.tostring(root, encoding="unicode"))


def test_seeded_and_deterministic(oracle_xsds: object) -> None:
    a = list(generate(7, 40))
    assert a == list(generate(7, 40))
    assert a != list(generate(8, 40))
    cov = Coverage()
    list(generate(7, 40, coverage=cov))
    assert cov.hits and cov.universe


@pytest.mark.parametrize("set_id", SET_IDS)
def test_oracle_round_trips_every_message(exificient: Exificient, corpus: dict[str, Generated],
                                          set_id: str) -> None:
    g = corpus[set_id]
    schema, fragment = g.set.schema, g.set.fragment
    first = exificient.encode_many([x for _, x in g.messages], schema=schema, fragment=fragment)
    errors = [(n, e) for (n, _), e in zip(g.messages, first) if isinstance(e, OracleError)]
    assert not errors, f"oracle rejected {len(errors)} messages, first {errors[0][0]}: {errors[0][1]}"
    decoded = exificient.decode_many([b for b in first if isinstance(b, bytes)], schema=schema,
                                     fragment=fragment)
    assert not any(isinstance(d, OracleError) for d in decoded)
    second = exificient.encode_many([d for d in decoded if isinstance(d, str)], schema=schema,
                                    fragment=fragment)
    unstable = [n for (n, _), a, b in zip(g.messages, first, second) if a != b]
    assert not unstable, f"{len(unstable)} messages change on the oracle round trip, e.g. {unstable[:5]}"
