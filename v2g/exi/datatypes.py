"""EXI datatype representations (EXI 1.0 section 7) for the built-in types V2G schemas use.

Each datatype turns a lexical value (the text of an XML element or attribute) into bits
and back. ``parse`` returns None when the lexical value does not fit the type; the encoder
then falls back to an untyped (string) CH event, as non-strict EXI allows. ``encoding``
gives a parsed value's bits as (int, width), so the codec can write it together with the
event codes around it; ``text_bits`` does facet, parse and encoding of an element's text in
one call. Fast paths (binascii's strict base64, the "already collapsed" test)
accept and refuse exactly what the lexical rules do (tests/exi/test_fast_paths.py).

Decoded lengths are checked against the bits left in the stream before anything is
allocated, so a forged length cannot make the decoder allocate or loop without bound.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from v2g.errors import ExiError, SchemaError
from v2g.exi.bits import BitReader, BitWriter, coding_length, uint_octets
from v2g.exi.model import SimpleType

# The EXI spec uses an n-bit integer when the facet-bounded range is at most 4096 values.
MAX_NBIT_RANGE = 4096

_XML_WS = " \t\n\r"
# Lexical checks follow EXIficient (the oracle) exactly, since a value it accepts is typed
# and one it refuses goes untyped, which changes the bits: trim as Java's String.trim()
# (every char <= U+0020), one leading '+' allowed on integers, base64 with only XML
# whitespace inside and zero trailing bits, hex without inner whitespace.
_INT = re.compile(r"^[+-]?[0-9]+$")
_B64_DATA = re.compile(r"^[A-Za-z0-9+/]*$")
_HEX = re.compile(r"^[0-9A-Fa-f]*$")
_B64_VALUES = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def java_trim(text: str) -> str:
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


def parse_base64(text: str) -> bytes | None:
    """The bytes of a base64 lexical value as EXIficient accepts it, or None.

    Fast path: text that binascii's strict mode decodes (alphabet only, correct padding,
    nothing after it) with zero bits after the last byte; anything else (whitespace inside
    or around, invalid text) takes the lexical rules of ``parse_base64_lexical``."""
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return parse_base64_lexical(text)
    return _checked_padding(text, raw)


def _checked_padding(text: str, raw: bytes) -> bytes | None:
    """parse_base64 of ``text``, which binascii's strict mode decoded to ``raw``."""
    # strict mode still takes padding after a whole quartet ("AAAA===="): leave odd cases
    # to the lexical rules. It refuses anything but "=" after a "=", so a "=" before the last
    # two characters shows as one third from the end (tested without copying the text).
    if len(text) % 4 or text[-3:-2] == "=":
        return parse_base64_lexical(text)
    tail = text[-2:]
    if tail == "==":
        return None if _B64_VALUES[text[-3]] & 0xF else raw  # non-zero bits after the last byte
    if tail[1:] == "=":
        return None if _B64_VALUES[tail[0]] & 0x3 else raw
    if "=" in tail:
        return parse_base64_lexical(text)
    return raw


def parse_base64_lexical(text: str) -> bytes | None:
    """parse_base64 by the lexical rules alone (the reference its fast path is tested against)."""
    t = java_trim(text)
    for ws in _XML_WS:
        t = t.replace(ws, "")
    if len(t) % 4:
        return None
    if not t:
        return b""
    body, last = t[:-4], t[-4:]
    if not _B64_DATA.match(body) or not _B64_DATA.match(last[:2]):
        return None
    d3, d4 = last[2], last[3]
    if d3 == "=" and d4 == "=":
        if _B64_VALUES[last[1]] & 0xF:
            return None  # non-zero bits after the last byte
    elif d4 == "=":
        if d3 not in _B64_VALUES or _B64_VALUES[d3] & 0x3:
            return None
    elif d3 not in _B64_VALUES or d4 not in _B64_VALUES:
        return None
    return base64.b64decode(t)


def parse_hex(text: str) -> bytes | None:
    t = java_trim(text)
    if len(t) % 2 or not _HEX.match(t):
        return None
    return bytes.fromhex(t)


PRESERVE, REPLACE, COLLAPSE = "preserve", "replace", "collapse"


def apply_whitespace(text: str, ws: str) -> str:
    """XML Schema whiteSpace facet processing (replace / collapse)."""
    if ws == PRESERVE:
        return text
    if not ("\t" in text or "\n" in text or "\r" in text or "  " in text or text[:1] == " "
            or text[-1:] == " "):
        return text  # nothing to replace or collapse (substring tests are much faster than a regex)
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    if ws == COLLAPSE:
        text = " ".join(p for p in text.split(" ") if p)
    return text


class Datatype:
    name = "datatype"
    # the whiteSpace facet: preserve for xs:string, collapse for every non-string type
    whitespace = COLLAPSE
    # True when no value read can hold a character XML text must escape (& < >)
    plain = True
    # True when a parsed value is the octets written after a length (binary types)
    octets = False

    def parse(self, text: str) -> Any | None:
        """The value to encode, or None if ``text`` is not a valid lexical value."""
        raise NotImplementedError

    def encoding(self, value: Any) -> tuple[int, int]:
        """The bits of a parsed value as (int, width): written in one go together with the
        event codes around it (elements of simple type, see the codec)."""
        raise NotImplementedError

    def write(self, w: BitWriter, value: Any) -> None:
        w.write(*self.encoding(value))

    def text_bits(self, text: str) -> tuple[int, int] | None:
        """The bits of an element's text in one call (the codec's fast path for elements of
        simple type): ``encoding(parse(t))`` where t is ``text`` after the whiteSpace facet;
        None when t is empty or not a valid lexical value (the general path decides then).
        Subclasses compute the same with fewer steps (tests/exi/test_fast_paths.py)."""
        if self.whitespace != PRESERVE:
            text = apply_whitespace(text, self.whitespace)
        v = self.parse(text) if text else None
        return None if v is None else self.encoding(v)

    def read(self, r: BitReader) -> str:
        """Read a value and return its canonical lexical form."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name}>"


def read_string_chars(r: BitReader, count: int, what: str) -> str:
    # Each character takes at least 8 bits: a longer count cannot be honest.
    if count * 8 > r.end - r.pos:
        raise ExiError(f"{what} length {count} exceeds the rest of the stream", r.pos, what)
    # Fast path: ASCII characters are single-byte unsigned integers equal to their code.
    start = r.pos
    raw = r.read_bytes(count, what)
    if raw.isascii():
        return raw.decode("ascii")
    r.pos = start
    chars = []
    for _ in range(count):
        cp = r.read_uint(what)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise ExiError(f"invalid character code {cp}", r.pos, "a Unicode code point")
        chars.append(chr(cp))
    return "".join(chars)


def write_string_chars(w: BitWriter, text: str) -> None:
    if text.isascii():  # one byte per character, equal to its code
        w.write_bytes(text.encode("ascii"))
        return
    for ch in text:
        w.write_uint(ord(ch))


class StringType(Datatype):
    """String: length + 2 (0 and 1 would be value-table hits, never used with capacity 0)."""

    name = "string"
    plain = False

    def __init__(self, whitespace: str = PRESERVE) -> None:
        self.whitespace = whitespace

    def parse(self, text: str) -> str:
        return text

    def write(self, w: BitWriter, value: str) -> None:
        if value.isascii():  # one octet per character, equal to its code
            w.write_counted(value.encode("ascii"), 2)
        else:
            w.write_uint(len(value) + 2)
            write_string_chars(w, value)

    def text_bits(self, text: str) -> tuple[int, int] | None:
        if self.whitespace != PRESERVE:
            text = apply_whitespace(text, self.whitespace)
        if not text:
            return None
        return self.encoding(text)

    def encoding(self, value: str) -> tuple[int, int]:
        if value.isascii():
            n = len(value)
            if n < 0x7E:  # the length + 2 fits one octet, then one octet per character
                return ((n + 2) << (8 * n)) | int.from_bytes(value.encode("ascii"), "big"), 8 * n + 8
            raw = uint_octets(n + 2) + value.encode("ascii")
        else:
            raw = uint_octets(len(value) + 2) + b"".join(uint_octets(ord(c)) for c in value)
        return int.from_bytes(raw, "big"), 8 * len(raw)

    def read(self, r: BitReader) -> str:
        # Fast path: a length that fits one octet and ASCII characters (one octet each), read
        # from the buffer in place with at most one int shift; anything else, and every
        # error, takes the general path below from the same bit.
        pos = r.pos
        if pos + 8 <= r.end:
            data = r.data
            i = pos >> 3
            k = pos & 7
            n = (((data[i] << 8) | data[i + 1]) >> (8 - k)) & 0xFF
            if 2 <= n < 0x80 and pos + 8 * (n - 1) <= r.end:
                count = n - 2
                if k == 0:
                    raw = data[i + 1:i + 1 + count]
                else:
                    raw = (int.from_bytes(data[i + 1:i + 2 + count], "big") >> (8 - k)).to_bytes(count + 1, "big")[1:]
                if raw.isascii():
                    r.pos = pos + 8 * (n - 1)
                    return raw.decode("ascii")
        start = r.pos
        n = r.read_uint("string length")
        if n < 2:
            # valuePartitionCapacity is 0: the value tables stay empty, so no hit can be valid.
            raise ExiError("string value table hit, but the value tables are empty", start,
                           "a string literal (length + 2)")
        return read_string_chars(r, n - 2, "string")


class BooleanType(Datatype):
    name = "boolean"

    def parse(self, text: str) -> int | None:
        t = java_trim(text)
        if t in ("true", "1"):
            return 1
        if t in ("false", "0"):
            return 0
        return None

    def encoding(self, value: int) -> tuple[int, int]:
        return value, 1

    def read(self, r: BitReader) -> str:
        return "true" if r.read(1, "boolean") else "false"


class BinaryType(Datatype):
    """base64Binary or hexBinary: a length in bytes, then the bytes."""

    octets = True

    def __init__(self, hex_: bool) -> None:
        self.hex = hex_
        self.name = "hexBinary" if hex_ else "base64Binary"
        self.parse = parse_hex if hex_ else parse_base64  # type: ignore[method-assign]

    def write(self, w: BitWriter, value: bytes) -> None:
        w.write_counted(value)

    def text_octets(self, text: str) -> bytes | None:
        """``parse`` of ``text`` after the whiteSpace facet (None if that is empty or
        invalid). base64 text that binascii's strict mode takes has no whitespace, so the
        facet would change nothing: it is decoded once, without the facet's scans."""
        if not text:
            return None
        if not self.hex:
            try:
                raw = binascii.a2b_base64(text, strict_mode=True)
            except (binascii.Error, ValueError):
                pass
            else:
                # Strict mode took the alphabet and the padding's form; it also takes padding
                # past a whole quartet ("AAAA===="), which the canonical length rules out. Then
                # the octets' count says which padding the text ends with: zero bits must
                # follow the last octet in the character before it.
                n = len(raw)
                if (n + 2) // 3 * 4 == len(text):
                    r3 = n % 3
                    if not r3:
                        return raw
                    if r3 == 1:  # "xx=="
                        return None if _B64_VALUES[text[-3]] & 0xF else raw
                    return None if _B64_VALUES[text[-2]] & 0x3 else raw  # "xxx="
                return _checked_padding(text, raw)
        text = apply_whitespace(text, COLLAPSE)
        return self.parse(text) if text else None

    def text_bits(self, text: str) -> tuple[int, int] | None:
        v = self.text_octets(text)
        return None if v is None else self.encoding(v)

    def encoding(self, value: bytes) -> tuple[int, int]:
        n = len(value)
        raw = (bytes((n,)) if n < 0x80 else uint_octets(n)) + value
        return int.from_bytes(raw, "big"), 8 * len(raw)

    def read(self, r: BitReader) -> str:
        start = r.pos
        buf = r.data
        i = start >> 3
        k = start & 7
        # a length of one or two octets (every certificate and key) read in place, each octet
        # from a two-byte window; longer ones, and streams ending here, by read_uint
        # (the reader's two bytes of padding make each window safe once the length check
        # passed)
        if start + 16 <= r.end:
            n = (((buf[i] << 8) | buf[i + 1]) >> (8 - k)) & 0xFF
            if n < 0x80:
                pos = start + 8
            else:
                hi = (((buf[i + 1] << 8) | buf[i + 2]) >> (8 - k)) & 0xFF
                if hi < 0x80:
                    n = (n & 0x7F) | (hi << 7)
                    pos = start + 16
                else:
                    n = r.read_uint("binary length")
                    pos = r.pos
        else:
            n = r.read_uint("binary length")
            pos = r.pos
        if n * 8 > r.end - pos:
            raise ExiError(f"binary length {n} exceeds the rest of the stream", start, "binary length")
        # the octets in place (BitReader.read_bytes without the call): one int shift at an
        # odd bit offset
        r.pos = pos + 8 * n
        i = pos >> 3
        if k == 0:
            data = buf[i:i + n]
        else:
            data = (int.from_bytes(buf[i:i + n + 1], "big") >> (8 - k)).to_bytes(n + 1, "big")[1:]
        return data.hex().upper() if self.hex else binascii.b2a_base64(data, newline=False).decode("ascii")


def _parse_int(text: str) -> int | None:
    t = java_trim(text)
    t = t.removeprefix("+")
    if not _INT.match(t):
        return None
    return int(t)


class UnsignedIntegerType(Datatype):
    name = "unsignedInteger"

    def parse(self, text: str) -> int | None:
        v = _parse_int(text)
        return v if v is not None and v >= 0 else None

    def encoding(self, value: int) -> tuple[int, int]:
        raw = uint_octets(value)
        return int.from_bytes(raw, "big"), 8 * len(raw)

    def read(self, r: BitReader) -> str:
        return str(r.read_uint("unsigned integer"))


class IntegerType(Datatype):
    """Integer: a sign bit, then the magnitude (minus one when negative) as unsigned."""

    name = "integer"

    def parse(self, text: str) -> int | None:
        return _parse_int(text)

    def encoding(self, value: int) -> tuple[int, int]:
        raw = uint_octets(-value - 1 if value < 0 else value)
        n = 8 * len(raw)
        return ((1 << n) if value < 0 else 0) | int.from_bytes(raw, "big"), n + 1

    def read(self, r: BitReader) -> str:
        neg = r.read(1, "integer sign")
        mag = r.read_uint("integer magnitude")
        return str(-(mag + 1) if neg else mag)


class NBitIntegerType(Datatype):
    """A bounded integer: value - min in just enough bits for the range."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo = lo
        self.hi = hi
        self.bits = coding_length(hi - lo + 1)
        self.name = f"nbit[{lo},{hi}]"

    def parse(self, text: str) -> int | None:
        v = _parse_int(text)
        if v is None or not self.lo <= v <= self.hi:
            return None
        return v - self.lo

    def encoding(self, value: int) -> tuple[int, int]:
        return value, self.bits

    def read(self, r: BitReader) -> str:
        start = r.pos
        v = r.read(self.bits, self.name) + self.lo
        if v > self.hi:
            raise ExiError(f"integer {v} out of range", start, self.name)
        return str(v)


class EnumerationType(Datatype):
    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values
        self.index = {v: i for i, v in enumerate(values)}
        self.plain = not any(c in v for v in values for c in "&<>")
        self.bits = coding_length(len(values))
        self.name = f"enum({len(values)})"
        # values the facet leaves as they are: text found as it is needs no facet
        self.stable = all(v and apply_whitespace(v, COLLAPSE) == v for v in values)

    def text_bits(self, text: str) -> tuple[int, int] | None:
        v = self.index.get(text) if self.stable else None
        if v is None:
            return super().text_bits(text)
        return v, self.bits

    def parse(self, text: str) -> int | None:
        return self.index.get(text)

    def encoding(self, value: int) -> tuple[int, int]:
        return value, self.bits

    def read(self, r: BitReader) -> str:
        start = r.pos
        i = r.read(self.bits, "enumeration index")
        if i >= len(self.values):
            raise ExiError(f"enumeration index {i} out of range", start,
                           f"an index below {len(self.values)}")
        return self.values[i]


STRING = StringType()
STRING_REPLACE = StringType(REPLACE)
STRING_COLLAPSE = StringType(COLLAPSE)
BOOLEAN = BooleanType()

# Date/time, float and decimal types have their own EXI representations, not needed by the
# V2G schemas; they are refused at grammar-build time rather than encoded wrongly.
_STRING_PRIMITIVES = {"string", "anyURI", "QName", "NOTATION", "anySimpleType"}
_cache: dict[int, Datatype] = {}


def datatype_for(st: SimpleType) -> Datatype:
    """Pick the EXI representation of a simple type, as EXI 1.0 section 7.1 prescribes."""
    dt = _cache.get(id(st))
    if dt is not None:
        return dt
    dt = _datatype_for(st)
    _cache[id(st)] = dt
    return dt


def _datatype_for(st: SimpleType) -> Datatype:
    enum = st.effective_enumeration()
    prim = st.primitive()
    if enum is not None:
        if prim not in ("string", "anyURI"):
            raise SchemaError(f"enumeration of {prim} is not supported ({st.name})")
        return EnumerationType(enum)
    if prim == "boolean":
        return BOOLEAN
    if prim == "base64Binary":
        return BinaryType(False)
    if prim == "hexBinary":
        return BinaryType(True)
    if prim == "decimal":
        if not st.is_derived_from("integer"):
            raise SchemaError(f"xs:decimal is not supported ({st.name})")
        lo = st.effective_facet("minInclusive")
        hi = st.effective_facet("maxInclusive")
        if lo is not None and hi is not None and hi - lo + 1 <= MAX_NBIT_RANGE:
            return NBitIntegerType(lo, hi)
        if lo is not None and lo >= 0:
            return UnsignedIntegerType()
        return IntegerType()
    if prim in _STRING_PRIMITIVES:
        if prim != "string" or st.is_derived_from("token"):
            return STRING_COLLAPSE  # anyURI, QName, token, Name, ID, ...
        if st.is_derived_from("normalizedString"):
            return STRING_REPLACE
        return STRING
    raise SchemaError(f"no EXI datatype for {st.name} (primitive {prim})")
