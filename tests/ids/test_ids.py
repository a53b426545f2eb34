"""Identifier rules: known vectors, typed errors, and properties of the check digit."""

from __future__ import annotations

import string

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from opcp.id_faker import (
    EMAID_INVALID_RULES,
    EVSE_INVALID_RULES,
    PCID_INVALID_RULES,
    SECC_INVALID_RULES,
    PnCIdProvider,
)
from v2g import ids
from v2g.ids import IdError

# Published examples of the eMI3 / DIN SPEC 91286 check digit (15th character).
CHECK_DIGIT_VECTORS = [
    "FRXYZ1234567892",
    "ITA1B2C3E4F5G64",
    "ESZU8WOX834H1DR",
    "PT73902837ABCZZ",
    "DE83DUIEN83QGZD",
    "DE83DUIEN83ZGQM",
]
ALNUM = string.ascii_uppercase + string.digits


@pytest.fixture(scope="module")
def fake() -> Faker:
    f = Faker()
    f.add_provider(PnCIdProvider)
    f.seed_instance(15118)
    return f


@pytest.mark.parametrize("emaid", CHECK_DIGIT_VECTORS)
def test_check_digit_vectors(emaid: str) -> None:
    assert ids.emaid_check_digit(emaid[:14]) == emaid[14]
    assert ids.normalise_emaid(emaid.lower()) == emaid


@pytest.mark.parametrize(
    ("given_", "canonical"),
    [
        ("DE-8AB-C12E45678", "DE8ABC12E45678"),
        ("de8abc12e45678", "DE8ABC12E45678"),
        ("fr-xyz-123456789-2", "FRXYZ1234567892"),
        ("EMP99CQAPAB004", "EMP99CQAPAB004"),  # real contract certificate CN, no check digit
        ("  DE8ABC12E45678 ", "DE8ABC12E45678"),
    ],
)
def test_emaid_normalise(given_: str, canonical: str) -> None:
    assert ids.normalise_emaid(given_) == canonical


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("DE8AB", "emaid.length"),
        ("DE8ABC12E456789XY", "emaid.length"),
        ("D18ABC12E45678", "emaid.country"),
        ("DE8AB_12E45678", "charset"),
        ("DE-8ABC12E45678", "emaid.separators"),
        ("DE-8AB-C12E45678X", "emaid.separators"),
        ("FRXYZ1234567893", "emaid.check_digit"),
        (None, "type"),
        (14, "type"),
    ],
)
def test_emaid_errors_name_field_and_rule(bad: object, rule: str) -> None:
    with pytest.raises(IdError) as info:
        ids.normalise_emaid(bad)
    assert info.value.field == "emaid"
    assert info.value.rule == rule
    assert rule in str(info.value)


def test_emaid_check_can_be_disabled() -> None:
    assert ids.normalise_emaid("FRXYZ1234567893", check=False) == "FRXYZ1234567893"


def test_emaid_helpers() -> None:
    assert ids.emaid_prefix("de-8ab-c12e45678") == "DE8AB"
    assert ids.emaid_with_check_digit("FR-XYZ-123456789") == "FRXYZ1234567892"
    assert ids.parse_emaid("FRXYZ1234567892").hyphenated() == "FR-XYZ-123456789-2"


@pytest.mark.parametrize("pcid", ["huboemprovcqa0615", "hubUsEaTest000003", "WP0123456789012345"])
def test_pcid_valid(pcid: str) -> None:
    assert ids.normalise_pcid(pcid) == pcid
    assert ids.pcid_wmi(pcid) == pcid[:3].upper()


@pytest.mark.parametrize("bad", ["WP01234567890123", "WP01234567890123456", "WP0-23456789012345", ""])
def test_pcid_invalid(bad: str) -> None:
    with pytest.raises(IdError) as info:
        ids.normalise_pcid(bad)
    assert (info.value.field, info.value.rule) == ("pcid", "pcid.pattern")


@pytest.mark.parametrize(
    ("evse", "prefix"),
    [("DE*ICE*E45B*78C", "DEICE"), ("DEICEE45B78C", "DEICE"), ("de*ice*e1", "DEICE")],
)
def test_evse_id_valid(evse: str, prefix: str) -> None:
    assert ids.normalise_evse_id(evse) == evse.upper()
    assert ids.evse_id_prefix(evse) == prefix


@pytest.mark.parametrize(
    ("bad", "rule"),
    [("DE*ICE*X45B", "evse.pattern"), ("DE*ICE*E", "evse.pattern"), ("DE*ICE*E" + "1" * 31, "evse.length")],
)
def test_evse_id_invalid(bad: str, rule: str) -> None:
    with pytest.raises(IdError) as info:
        ids.normalise_evse_id(bad)
    assert (info.value.field, info.value.rule) == ("evse_id", rule)


def test_secc_id() -> None:
    example = "DE-ICE-S-00003C4D557878675645330967543476-2"
    assert ids.normalise_secc_id(example.lower()) == example
    with pytest.raises(IdError) as info:
        ids.normalise_secc_id("DE-ICE-E-0000-2")
    assert (info.value.field, info.value.rule) == ("secc_id", "secc.pattern")


# ------------------------------------------------------------------ faker provider


def test_faker_valid_ids(fake: Faker) -> None:
    for _ in range(200):
        assert ids.is_valid_emaid(fake.emaid())
        assert ids.is_valid_emaid(fake.emaid(hyphens=True))
        assert ids.is_valid_emaid(fake.emaid(check_digit=False))
        assert ids.is_valid_pcid(fake.pcid())
        assert ids.is_valid_evse_id(fake.evse_id())
        assert ids.is_valid_evse_id(fake.evse_id(separators=False))
        assert ids.is_valid_secc_id(fake.secc_id())
    assert fake.emaid(prefix="DE8AB").startswith("DE8AB")
    assert ids.pcid_wmi(fake.pcid(wmi="WBA")) == "WBA"


@pytest.mark.parametrize(
    ("kind", "variants", "check"),
    [
        ("emaid", EMAID_INVALID_RULES, ids.normalise_emaid),
        ("pcid", PCID_INVALID_RULES, ids.normalise_pcid),
        ("evse_id", EVSE_INVALID_RULES, ids.normalise_evse_id),
        ("secc_id", SECC_INVALID_RULES, ids.normalise_secc_id),
    ],
)
def test_faker_invalid_variants_fail_with_their_rule(fake: Faker, kind, variants, check) -> None:
    make = getattr(fake, f"{kind}_invalid")
    for variant, rule in variants.items():
        for _ in range(30):
            with pytest.raises(IdError) as info:
                check(make(variant))
            assert info.value.field == kind
            assert info.value.rule == rule, (variant, info.value)
    with pytest.raises(KeyError):
        make("no_such_variant")


# ------------------------------------------------------------------ properties

body14 = st.tuples(
    st.text(string.ascii_uppercase, min_size=2, max_size=2),
    st.text(ALNUM, min_size=12, max_size=12),
).map("".join)


@given(body14, st.booleans(), st.booleans(), st.booleans())
def test_normalise_is_idempotent(body: str, digit: bool, hyphens: bool, lower: bool) -> None:
    value = body + (ids.emaid_check_digit(body) if digit else "")
    if hyphens:
        value = f"{value[:2]}-{value[2:5]}-{value[5:14]}" + (f"-{value[14:]}" if digit else "")
    if lower:
        value = value.lower()
    once = ids.normalise_emaid(value)
    assert ids.normalise_emaid(once) == once
    assert once == body + (ids.emaid_check_digit(body) if digit else "")


@given(body14, st.integers(0, 14), st.sampled_from(ALNUM))
def test_check_digit_detects_any_single_character_error(body: str, pos: int, ch: str) -> None:
    good = body + ids.emaid_check_digit(body)
    bad = good[:pos] + ch + good[pos + 1 :]
    if bad == good:
        return
    assert ids.emaid_check_digit(bad[:14]) != bad[14]


@given(body14, st.integers(0, 13))
def test_check_digit_detects_adjacent_transpositions(body: str, pos: int) -> None:
    good = body + ids.emaid_check_digit(body)
    swapped = good[:pos] + good[pos + 1] + good[pos] + good[pos + 2 :]
    if swapped == good:
        return
    assert ids.emaid_check_digit(swapped[:14]) != swapped[14]


@settings(max_examples=300)
@given(st.text(max_size=25))
def test_arbitrary_text_never_crashes(text: str) -> None:
    for fn in (ids.normalise_emaid, ids.normalise_pcid, ids.normalise_evse_id, ids.normalise_secc_id):
        try:
            fn(text)
        except IdError:
            pass


@given(st.integers(0, 2**32))
def test_generated_ids_always_valid(seed: int) -> None:
    f = Faker()
    f.add_provider(PnCIdProvider)
    f.seed_instance(seed)
    assert ids.is_valid_emaid(f.emaid(hyphens=bool(seed % 2)))
    assert ids.is_valid_pcid(f.pcid())
    assert ids.is_valid_evse_id(f.evse_id())
    assert ids.is_valid_secc_id(f.secc_id())
