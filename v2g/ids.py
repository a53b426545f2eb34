"""Plug&Charge identifiers: EMAID, PCID, EVSE ID and SECC ID.

Each identifier has a ``normalise_*`` function that either returns the canonical
form or raises :class:`IdError` naming the field and the rule that failed. The
rules are kept as data in ``RULES`` so that documentation, error messages and the
conformance checks read the same text.

Canonical forms (OPCP ``docs/05_handling-of-ids.md``):

- EMAID: upper case, no hyphens, 14 characters, or 15 with the check digit.
- PCID: 17 or 18 alphanumerics; case is kept (the spec's pattern accepts both and
  real provisioning certificates carry lower case, e.g. ``huboemprovcqa0615``).
- EVSE ID: upper case, with or without ``*`` separators as given (ISO 15118-2 allows
  either; we do not insert or drop them because the CN of a SECC certificate must
  match byte for byte what the CPO registered).
- SECC ID: upper case, ``-`` separators kept.

The EMAID check digit follows the algorithm of DIN SPEC 91286 / the eMI3 "check
digit calculation for contract IDs": each character value v (0-9, A-Z -> 0..35) is
split into a pair over GF(2) and a pair over GF(3) (v = 18*q1 + 9*q2 + 3*r1 + r2);
character i (1-based) is multiplied by the i-th power of a 2x2 matrix over each
field; a 15-character EMAID is valid when both sums are zero. The matrices are
invertible and so are (I - P), so any single wrong character and any swap of two
adjacent different characters changes the sums and is detected.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

__all__ = [
    "RULES",
    "Emaid",
    "IdError",
    "emaid_check_digit",
    "emaid_prefix",
    "emaid_with_check_digit",
    "evse_id_prefix",
    "is_valid_emaid",
    "is_valid_evse_id",
    "is_valid_pcid",
    "is_valid_secc_id",
    "normalise_emaid",
    "normalise_evse_id",
    "normalise_pcid",
    "normalise_secc_id",
    "parse_emaid",
    "pcid_wmi",
]

# Rule identifiers and their human text. Errors carry the identifier so callers
# (and the conformance report) can match on it without parsing prose.
RULES: dict[str, str] = {
    "type": "must be a string",
    "charset": "only letters A-Z, digits and the allowed separators",
    "emaid.length": "2 + 3 + 9 characters, plus an optional check digit (14 or 15 without hyphens)",
    "emaid.country": "country code is 2 letters",
    "emaid.separators": "hyphens either after the country code and provider id (and before the"
    " check digit) or not at all",
    "emaid.check_digit": "the 15th character must be the DIN SPEC 91286 check digit",
    "pcid.pattern": "17 or 18 letters or digits (^[a-zA-Z0-9]{17,18}$)",
    "evse.pattern": "<country 2 letters><*?><operator 3 alnum><*?>E<outlet: alnum, then up to 30"
    " alnum or *>",
    "evse.length": "at most 37 characters (ISO 15118-2 EVSEID length)",
    "secc.pattern": "<country 2 letters>-<operator 3 alnum>-S-<controller 1-32 alnum>-<check 1 alnum>",
}


@dataclass
class IdError(ValueError):
    """An identifier broke a rule. ``field`` is emaid, pcid, evse_id or secc_id."""

    field: str
    rule: str
    value: object = None

    def __str__(self) -> str:
        return f"{self.field}: {RULES.get(self.rule, self.rule)} [{self.rule}] (got {self.value!r})"


_ALNUM = frozenset(string.ascii_uppercase + string.digits)


def _require_str(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise IdError(field, "type", value)
    return value


# --------------------------------------------------------------------------- EMAID

# Matrix powers P^1 .. P^15 flattened as (a, b, c, d) for [[a, b], [c, d]].
def _powers(base: tuple[int, int, int, int], modulus: int, count: int) -> list[tuple[int, ...]]:
    a, b, c, d = base
    out: list[tuple[int, ...]] = []
    cur = (a, b, c, d)
    for _ in range(count):
        out.append(cur)
        w, x, y, z = cur
        cur = (
            (w * a + x * c) % modulus,
            (w * b + x * d) % modulus,
            (y * a + z * c) % modulus,
            (y * b + z * d) % modulus,
        )
    return out


# The generator matrices of the standard: period 3 over GF(2), period 8 over GF(3).
_P2 = _powers((0, 1, 1, 1), 2, 15)
_P3 = _powers((0, 1, 1, 2), 3, 15)
_CHAR_VALUE = {ch: i for i, ch in enumerate(string.digits + string.ascii_uppercase)}
_VALUE_CHAR = {v: k for k, v in _CHAR_VALUE.items()}


def _split(v: int) -> tuple[int, int, int, int]:
    return v // 18, (v // 9) % 2, (v // 3) % 3, v % 3


def _fold(chars: str) -> tuple[int, int, int, int]:
    """Sum of q_i * P2^i (mod 2) and r_i * P3^i (mod 3) over the characters (row vectors)."""
    c1 = c2 = c3 = c4 = 0
    for i, ch in enumerate(chars):
        q1, q2, r1, r2 = _split(_CHAR_VALUE[ch])
        a, b, c, d = _P2[i]
        c1 += q1 * a + q2 * c
        c2 += q1 * b + q2 * d
        a, b, c, d = _P3[i]
        c3 += r1 * a + r2 * c
        c4 += r1 * b + r2 * d
    return c1 % 2, c2 % 2, c3 % 3, c4 % 3


def emaid_check_digit(emaid14: str) -> str:
    """The check digit for the 14 characters of an EMAID (hyphens and case ignored)."""
    # Defined over any 14 alphanumerics, so the country-code rule is not applied here.
    body = _require_str("emaid", emaid14).replace("-", "").upper()[:14]
    if len(body) != 14:
        raise IdError("emaid", "emaid.length", emaid14)
    if any(ch not in _ALNUM for ch in body):
        raise IdError("emaid", "charset", emaid14)
    c1, c2, c3, c4 = _fold(body)
    # Solve q * P2^15 = -c (mod 2) and r * P3^15 = -c (mod 3) for the 15th character.
    # P2^15 is the identity (period 3); P3^15 = P3^7 = [[1,1],[1,0]], whose inverse mod 3
    # is [[0,1],[1,2]].
    q1, q2 = c1, c2
    r1 = (-c4) % 3
    r2 = (c4 - c3) % 3
    return _VALUE_CHAR[18 * q1 + 9 * q2 + 3 * r1 + r2]


@dataclass(frozen=True)
class Emaid:
    """A parsed EMAID in canonical form."""

    country: str
    provider: str
    instance: str
    check_digit: str | None

    @property
    def value(self) -> str:
        return f"{self.country}{self.provider}{self.instance}{self.check_digit or ''}"

    @property
    def prefix(self) -> str:
        """Country code and provider id: the 5 characters an MO's CSR scope is checked against."""
        return self.country + self.provider

    def hyphenated(self) -> str:
        tail = f"-{self.check_digit}" if self.check_digit else ""
        return f"{self.country}-{self.provider}-{self.instance}{tail}"


def parse_emaid(value: object, *, check: bool = True) -> Emaid:
    """Parse an EMAID in any accepted form.

    ``check``: when the check digit is present, verify it. The OPCP ecosystem treats the
    digit as optional, and some issuers fill the 15th position with their own character;
    pass ``check=False`` to accept those.
    """
    raw = _require_str("emaid", value).strip()
    up = raw.upper()
    if "-" in up:
        # Separators are all-or-nothing: CC-PPP-IIIIIIIII or CC-PPP-IIIIIIIII-D.
        parts = up.split("-")
        if len(parts) not in (3, 4) or [len(p) for p in parts[:3]] != [2, 3, 9] or (
            len(parts) == 4 and len(parts[3]) != 1
        ):
            raise IdError("emaid", "emaid.separators", value)
        compact = "".join(parts)
    else:
        compact = up
    if any(ch not in _ALNUM for ch in compact):
        raise IdError("emaid", "charset", value)
    if len(compact) not in (14, 15):
        raise IdError("emaid", "emaid.length", value)
    if not compact[:2].isalpha():
        raise IdError("emaid", "emaid.country", value)
    digit = compact[14] if len(compact) == 15 else None
    if check and digit is not None and emaid_check_digit(compact[:14]) != digit:
        raise IdError("emaid", "emaid.check_digit", value)
    return Emaid(compact[:2], compact[2:5], compact[5:14], digit)


def normalise_emaid(value: object, *, check: bool = True) -> str:
    """Canonical EMAID: upper case, no hyphens, check digit kept when given."""
    return parse_emaid(value, check=check).value


def emaid_with_check_digit(value: object) -> str:
    """Canonical 15-character EMAID, adding the check digit when it is missing."""
    e = parse_emaid(value)
    return e.value if e.check_digit else e.value + emaid_check_digit(e.value)


def emaid_prefix(value: object) -> str:
    """Country code + provider id (5 characters), e.g. ``DE8AB`` of ``DE-8AB-C12E45678-X``."""
    return parse_emaid(value, check=False).prefix


def is_valid_emaid(value: object, *, check: bool = True) -> bool:
    try:
        parse_emaid(value, check=check)
    except IdError:
        return False
    return True


# --------------------------------------------------------------------------- PCID

_PCID = re.compile(r"[A-Za-z0-9]{17,18}")


def normalise_pcid(value: object) -> str:
    """A PCID is checked, not rewritten: the certificate CN must stay byte-identical."""
    raw = _require_str("pcid", value).strip()
    if not _PCID.fullmatch(raw):
        raise IdError("pcid", "pcid.pattern", value)
    return raw


def pcid_wmi(value: object) -> str:
    """The World Manufacturer Identifier: the first 3 characters, upper case."""
    return normalise_pcid(value)[:3].upper()


def is_valid_pcid(value: object) -> bool:
    try:
        normalise_pcid(value)
    except IdError:
        return False
    return True


# --------------------------------------------------------------------------- EVSE ID

# ISO 15118-2 Annex H: <CC><S><OperatorID><S>E<PowerOutletID>, <S> = *1("*"),
# PowerOutletID = (ALPHA / DIGIT) *30(ALPHA / DIGIT / "*").
_EVSE = re.compile(r"([A-Z]{2})(\*?)([A-Z0-9]{3})(\*?)E([A-Z0-9][A-Z0-9*]{0,30})")
EVSE_ID_MAX = 37


def normalise_evse_id(value: object) -> str:
    raw = _require_str("evse_id", value).strip()
    up = raw.upper()
    if len(up) > EVSE_ID_MAX:
        raise IdError("evse_id", "evse.length", value)
    if not _EVSE.fullmatch(up):
        raise IdError("evse_id", "evse.pattern", value)
    return up


def evse_id_prefix(value: object) -> str:
    """Country code + operator id (5 characters), the scope a CPO's CSR is checked against."""
    m = _EVSE.fullmatch(normalise_evse_id(value))
    assert m is not None  # normalise_evse_id guarantees it
    return m.group(1) + m.group(3)


def is_valid_evse_id(value: object) -> bool:
    try:
        normalise_evse_id(value)
    except IdError:
        return False
    return True


# --------------------------------------------------------------------------- SECC ID

# ISO 15118-20: <CC><S><OperatorID><S>S<S><ControllerID><S><CheckDigit>; the OPCP example
# DE-ICE-S-00003C4D557878675645330967543476-2 uses "-" as <S>. The standard's check digit
# algorithm for SECC IDs is not given in the OPCP spec, so it is checked for form only.
_SECC = re.compile(r"([A-Z]{2})-([A-Z0-9]{3})-S-([A-Z0-9]{1,32})-([A-Z0-9])")


def normalise_secc_id(value: object) -> str:
    raw = _require_str("secc_id", value).strip()
    up = raw.upper()
    if not _SECC.fullmatch(up):
        raise IdError("secc_id", "secc.pattern", value)
    return up


def is_valid_secc_id(value: object) -> bool:
    try:
        normalise_secc_id(value)
    except IdError:
        return False
    return True
