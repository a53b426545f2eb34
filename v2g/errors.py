"""Exception hierarchy of the v2g package.

Every error that v2g raises on bad input derives from :class:`V2GError`, so a caller
(an HTTP handler, the CLI, a conformance step) can catch one type and report it.
"""

from __future__ import annotations


class V2GError(Exception):
    """Base class of all errors raised by the v2g package on bad input."""


class ExiError(V2GError):
    """An EXI stream (or a tree to encode) does not fit the grammar.

    ``bit_offset`` is the position in the stream (in bits from the first byte) where the
    problem was seen; ``expected`` says what the codec was looking for there.
    """

    def __init__(self, message: str, bit_offset: int = 0, expected: str = "") -> None:
        self.bit_offset = bit_offset
        self.expected = expected
        self.reason = message
        super().__init__(f"{message} (at bit {bit_offset}; expected {expected or 'nothing'})")


class SchemaError(V2GError):
    """The schema description itself is inconsistent (a bug in v2g, not in the input)."""


class SignatureError(V2GError):
    """An XMLDSig-over-EXI signature could not be created or checked.

    ``what`` names the part that failed, e.g. ``"Reference #ID1 digest"`` or
    ``"SignatureValue"``.
    """

    def __init__(self, message: str, what: str = "") -> None:
        self.what = what
        super().__init__(message)


class FieldRuleError(V2GError, ValueError):
    """Bad input that names the field and the rule it broke: `field: detail [rule]`."""

    prefix = ""

    def __init__(self, field: str, rule: str, detail: str) -> None:
        super().__init__(f"{self.prefix}{field}: {detail} [{rule}]")
        self.field = field
        self.rule = rule
        self.detail = detail
