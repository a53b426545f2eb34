"""Faker provider for Plug&Charge identifiers, valid ones and named invalid variants.

Usage::

    from faker import Faker
    from opcp.id_faker import PnCIdProvider

    fake = Faker()
    fake.add_provider(PnCIdProvider)
    fake.emaid()                     # 'DEAB1C23D4E5F6X' (with check digit)
    fake.emaid_invalid("too_short")  # fails normalise_emaid with rule emaid.length

Each invalid variant is named after what is wrong with it and maps to the rule
identifier that ``v2g.ids`` reports for it (``*_INVALID_RULES``), so negative
scenarios can assert on the exact rule.
"""

from __future__ import annotations

import string

from faker.providers import BaseProvider

from v2g.ids import emaid_check_digit

__all__ = [
    "EMAID_INVALID_RULES",
    "EVSE_INVALID_RULES",
    "PCID_INVALID_RULES",
    "SECC_INVALID_RULES",
    "PnCIdProvider",
]

_UPPER = string.ascii_uppercase
_ALNUM = string.ascii_uppercase + string.digits

# Variant name -> rule identifier v2g.ids raises for it.
EMAID_INVALID_RULES: dict[str, str] = {
    "too_short": "emaid.length",
    "too_long": "emaid.length",
    "bad_check_digit": "emaid.check_digit",
    "numeric_country": "emaid.country",
    "bad_character": "charset",
    "underscore": "charset",  # the spec's \w pattern accepts it; the ID rules do not
    "misplaced_hyphen": "emaid.separators",
    "partial_hyphens": "emaid.separators",
}
PCID_INVALID_RULES: dict[str, str] = {
    "too_short": "pcid.pattern",
    "too_long": "pcid.pattern",
    "bad_character": "pcid.pattern",
    "with_hyphen": "pcid.pattern",
}
EVSE_INVALID_RULES: dict[str, str] = {
    "wrong_id_type": "evse.pattern",
    "numeric_country": "evse.pattern",
    "too_long": "evse.length",
    "empty_outlet": "evse.pattern",
}
SECC_INVALID_RULES: dict[str, str] = {
    "wrong_id_type": "secc.pattern",
    "missing_check_digit": "secc.pattern",
    "controller_too_long": "secc.pattern",
}


class PnCIdProvider(BaseProvider):
    """Generates EMAIDs, PCIDs, EVSE IDs and SECC IDs."""

    def _chars(self, alphabet: str, n: int) -> str:
        return "".join(self.random_element(alphabet) for _ in range(n))

    # ------------------------------------------------------------------ EMAID
    def emaid_provider_prefix(self) -> str:
        """Country code + provider id, e.g. 'DE8AB'."""
        return self._chars(_UPPER, 2) + self._chars(_ALNUM, 3)

    def emaid(self, prefix: str | None = None, check_digit: bool = True, hyphens: bool = False) -> str:
        body = (prefix or self.emaid_provider_prefix()).upper() + self._chars(_ALNUM, 9)
        digit = emaid_check_digit(body) if check_digit else ""
        if hyphens:
            return f"{body[:2]}-{body[2:5]}-{body[5:]}" + (f"-{digit}" if digit else "")
        return body + digit

    def emaid_invalid(self, variant: str) -> str:
        good = self.emaid()
        if variant == "too_short":
            return good[: self.random_int(1, 13)]
        if variant == "too_long":
            return good + self._chars(_ALNUM, self.random_int(1, 5))
        if variant == "bad_check_digit":
            right = good[14]
            return good[:14] + self.random_element([c for c in _ALNUM if c != right])
        if variant == "numeric_country":
            return self._chars(string.digits, 1) + good[1:]
        if variant == "bad_character":
            pos = self.random_int(2, 13)
            return good[:pos] + self.random_element("!#*/ .é") + good[pos + 1 :]
        if variant == "underscore":
            pos = self.random_int(5, 13)
            return good[:pos] + "_" + good[pos + 1 :]
        if variant == "misplaced_hyphen":
            return good[:3] + "-" + good[3:]
        if variant == "partial_hyphens":
            return f"{good[:2]}-{good[2:]}"
        raise KeyError(f"unknown EMAID variant {variant!r}; known: {sorted(EMAID_INVALID_RULES)}")

    # ------------------------------------------------------------------ PCID
    def pcid_wmi(self) -> str:
        return self._chars(_UPPER, 1) + self._chars(_ALNUM, 2)

    def pcid(self, wmi: str | None = None, check_digit: bool | None = None) -> str:
        if check_digit is None:
            check_digit = self.random_element([True, False])
        return (wmi or self.pcid_wmi()) + self._chars(_ALNUM, 14 + int(check_digit))

    def pcid_invalid(self, variant: str) -> str:
        good = self.pcid(check_digit=False)
        if variant == "too_short":
            return good[: self.random_int(1, 16)]
        if variant == "too_long":
            return good + self._chars(_ALNUM, self.random_int(2, 6))
        if variant == "bad_character":
            pos = self.random_int(3, 16)
            return good[:pos] + self.random_element("_!* .") + good[pos + 1 :]
        if variant == "with_hyphen":
            return good[:3] + "-" + good[3:]
        raise KeyError(f"unknown PCID variant {variant!r}; known: {sorted(PCID_INVALID_RULES)}")

    # ------------------------------------------------------------------ EVSE ID
    def evse_operator_prefix(self) -> str:
        return self._chars(_UPPER, 2) + self._chars(_ALNUM, 3)

    def evse_id(self, prefix: str | None = None, separators: bool = True) -> str:
        p = (prefix or self.evse_operator_prefix()).upper()
        outlet = self._chars(_ALNUM, self.random_int(1, 8))
        if separators:
            return f"{p[:2]}*{p[2:]}*E{outlet}"
        return f"{p}E{outlet}"

    def evse_id_invalid(self, variant: str) -> str:
        good = self.evse_id(separators=True)
        if variant == "wrong_id_type":
            return good[:7] + "X" + good[8:]
        if variant == "numeric_country":
            return "1" + good[1:]
        if variant == "too_long":
            return good + self._chars(_ALNUM, 40)
        if variant == "empty_outlet":
            return good[:8]
        raise KeyError(f"unknown EVSE ID variant {variant!r}; known: {sorted(EVSE_INVALID_RULES)}")

    # ------------------------------------------------------------------ SECC ID
    def secc_id(self, prefix: str | None = None) -> str:
        p = (prefix or self.evse_operator_prefix()).upper()
        controller = self._chars(_ALNUM, self.random_int(1, 32))
        return f"{p[:2]}-{p[2:]}-S-{controller}-{self._chars(_ALNUM, 1)}"

    def secc_id_invalid(self, variant: str) -> str:
        good = self.secc_id()
        if variant == "wrong_id_type":
            return good[:7] + "E" + good[8:]
        if variant == "missing_check_digit":
            return good[:-2]
        if variant == "controller_too_long":
            return good[:9] + self._chars(_ALNUM, 33) + good[-2:]
        raise KeyError(f"unknown SECC ID variant {variant!r}; known: {sorted(SECC_INVALID_RULES)}")
