"""v2g.exi against EXIficient, bit for bit, over the generated corpus.

Each set of corpus.SETS is one test of its schema-pure messages; messages
holding undeclared wildcard content (EXI Profile: SE(*) with xsi:type anyType)
are a test of their own, so a failure there is named as such. Cases showing a
known, explained divergence (divergences.KNOWN) run in strict-xfail tests: the
main tests keep guarding everything else, and a fix in the codec shows up as an
XPASS that fails until the entry is removed.

On failure the message names the first failing message, the check and the
first differing bit; all failing cases are in reports/exi-differential/<set>/.
"""

from __future__ import annotations

import pytest

from v2g import exi

from .corpus import ISO20_SET_IDS, SETS, Generated
from .differential import run, summary, write_failures
from .divergences import KNOWN, classify
from .exificient import Exificient
from .reference import ccp_examples

pytestmark = [pytest.mark.oracle, pytest.mark.slow]  # the generated corpus through EXIficient


SET_IDS = [s.id for s in SETS]
UNDECLARED = "+undeclared"


def _check(oracle: Exificient, set_id: str, cases: list[tuple[str, str]], schema: str, fragment: bool) -> None:
    assert cases, f"{set_id}: no cases"
    failures, total = run(oracle, cases, schema=schema, fragment=fragment,
                          xml_to_exi=exi.xml_to_exi, exi_to_xml=exi.exi_to_xml)
    where = write_failures(set_id, failures, cases, schema=schema, fragment=fragment)
    if failures:
        pytest.fail(summary(set_id, failures, total, where), pytrace=False)


def _cases(g: Generated, *, undeclared: bool, divergence: str | None) -> list[tuple[str, str]]:
    return [(n, x) for n, x in g.messages
            if n.endswith(UNDECLARED) == undeclared
            and (undeclared or classify(x, g.set.schema) == divergence)]


@pytest.mark.parametrize("set_id", SET_IDS)
def test_schema_pure_messages(exificient: Exificient, corpus: dict[str, Generated], set_id: str) -> None:
    g = corpus[set_id]
    cases = _cases(g, undeclared=False, divergence=None)
    assert len(cases) >= len(g.messages) // 4, "known divergences swallow most of the set"
    _check(exificient, set_id, cases, g.set.schema, g.set.fragment)


_NO_DIVERGENCE = pytest.param("none", marks=pytest.mark.skip(reason="no known divergences (divergences.KNOWN)"))


@pytest.mark.parametrize("divergence", [
    pytest.param(d.id, marks=pytest.mark.xfail(strict=True, reason=d.reason)) for d in KNOWN] or [_NO_DIVERGENCE])
@pytest.mark.parametrize("set_id", SET_IDS)
def test_known_divergence(exificient: Exificient, corpus: dict[str, Generated], set_id: str,
                          divergence: str) -> None:
    g = corpus[set_id]
    cases = _cases(g, undeclared=False, divergence=divergence)
    if not cases:
        pytest.fail(f"{set_id}: no case shows {divergence}; nothing to check")
    _check(exificient, f"{set_id}-{divergence}", cases, g.set.schema, g.set.fragment)


# Only these sets reach a lax wildcard (inside ds:Signature / ds:SignedInfo; every -20
# message header may hold a ds:Signature).
@pytest.mark.parametrize("set_id", ["iso2-doc", "xmldsig-fragment",
                                    *[s for s in ISO20_SET_IDS if s.endswith("-doc") and s != "iso20-app-doc"]])
def test_undeclared_wildcard_content(exificient: Exificient, corpus: dict[str, Generated], set_id: str) -> None:
    g = corpus[set_id]
    cases = _cases(g, undeclared=True, divergence=None)
    if not cases:
        pytest.fail(f"{set_id}: no message with undeclared content")
    _check(exificient, f"{set_id}-undeclared", cases, g.set.schema, g.set.fragment)


def test_spec_real_messages(exificient: Exificient) -> None:
    try:
        examples = ccp_examples()
    except OSError as exc:
        pytest.skip(f"OPCP spec examples not readable: {exc}")
    cases = [(name, exificient.decode(data)) for name, data in sorted(examples.items())]
    _check(exificient, "spec-examples", cases, "iso2", False)
