"""The codec's fast paths against simple reference implementations, on seeded random data.

- BitReader / BitWriter against a string of '0'/'1' characters (the obvious bit stream):
  n-bit values of every width at every alignment, unsigned integers, byte strings, counted
  byte strings (``write_counted``: a length, then the octets, in one shift).
- parse_base64's binascii fast path against the lexical rules (parse_base64_lexical).
- apply_whitespace's "already collapsed" shortcut against the facet done by hand.
- Each datatype's one-call ``text_bits`` (and binary ``text_octets``) against the steps it
  replaces (facet, parse, encoding), for every datatype of every schema set.
- XML text written while decoding (exi_to_xml) against to_xml of the decoded tree, on every
  EXIficient vector.
- parse_xml's C-parser path (taken for text without ":type") against the namespace-tracking
  parser that resolves xsi:type values, on every vector's XML and on our XML of it.
"""

from __future__ import annotations

import base64
import random

import pytest

from v2g.errors import ExiError
from v2g.exi import decode, exi_to_xml
from v2g.exi.bits import BitReader, BitWriter, uint_octets
from v2g.exi.datatypes import (
    COLLAPSE,
    PRESERVE,
    REPLACE,
    STRING,
    BinaryType,
    Datatype,
    apply_whitespace,
    parse_base64,
    parse_base64_lexical,
    read_string_chars,
)
from v2g.exi.grammar import SE, grammars_for
from v2g.exi.schemas import SCHEMA_SETS
from v2g.exi.xmlio import _parse_resolving, parse_xml, to_xml

from .test_exificient_vectors import VECTORS


def _uint_bits(value: int) -> str:
    groups = []
    while True:
        low, value = value & 0x7F, value >> 7
        groups.append(format(low | (0x80 if value else 0), "08b"))
        if not value:
            return "".join(groups)


def _random_ops(rng: random.Random, count: int) -> list[tuple[str, object]]:
    ops: list[tuple[str, object]] = []
    for _ in range(count):
        kind = rng.choice(("bits", "bits", "bits", "uint", "bytes", "counted"))
        if kind == "bits":
            n = rng.choice((0, 1, 2, 3, 7, 8, 9, 10, 16, 17, 31, 63, 64, 65, 130))
            ops.append((kind, (rng.getrandbits(n) if n else 0, n)))
        elif kind == "uint":
            ops.append((kind, rng.getrandbits(rng.choice((1, 7, 8, 14, 15, 40, 300)))))
        elif kind == "counted":  # a length (plus 0 or 2, as strings count) and the octets
            ops.append((kind, (rng.randbytes(rng.choice((0, 1, 2, 5, 33, 126, 127, 300, 20000))),
                               rng.choice((0, 2)))))
        else:
            ops.append((kind, rng.randbytes(rng.choice((0, 1, 2, 5, 33, 300)))))
    return ops


def _reference_bits(ops: list[tuple[str, object]]) -> str:
    out = []
    for kind, arg in ops:
        if kind == "bits":
            value, n = arg  # type: ignore[misc]
            out.append(format(value, f"0{n}b") if n else "")
        elif kind == "uint":
            out.append(_uint_bits(arg))  # type: ignore[arg-type]
        elif kind == "counted":
            data, extra = arg  # type: ignore[misc]
            out.append(_uint_bits(len(data) + extra) + "".join(format(b, "08b") for b in data))
        else:
            out.append("".join(format(b, "08b") for b in arg))  # type: ignore[union-attr]
    return "".join(out)


@pytest.mark.parametrize("seed", range(40))
def test_bit_writer_and_reader_match_a_bit_string(seed: int) -> None:
    rng = random.Random(seed)
    ops = _random_ops(rng, 60)
    w = BitWriter()
    for kind, arg in ops:
        if kind == "bits":
            w.write(*arg)  # type: ignore[misc]
        elif kind == "uint":
            w.write_uint(arg)  # type: ignore[arg-type]
        elif kind == "counted":
            w.write_counted(*arg)  # type: ignore[misc]
        else:
            w.write_bytes(arg)  # type: ignore[arg-type]
    bits = _reference_bits(ops)
    assert w.bit_length() == len(bits)
    padded = bits + "0" * (-len(bits) % 8)
    data = w.getvalue()
    assert data == (int(padded, 2).to_bytes(len(padded) // 8, "big") if padded else b"")

    r = BitReader(data)
    for kind, arg in ops:
        if kind == "bits":
            value, n = arg  # type: ignore[misc]
            assert r.read(n) == value
        elif kind == "uint":
            assert r.read_uint() == arg
        elif kind == "counted":
            data, extra = arg  # type: ignore[misc]
            assert r.read_uint() == len(data) + extra
            assert r.read_bytes(len(data)) == data
        else:
            assert r.read_bytes(len(arg)) == arg  # type: ignore[arg-type]
    assert r.pos == len(bits)
    # nothing is read past the end, whatever the width (the buffer's padding is not data)
    with pytest.raises(ExiError):
        r.read(r.remaining() + 1)
    with pytest.raises(ExiError):
        r.read_bytes(r.remaining() // 8 + 1)
    assert r.read(0) == 0


def test_reads_at_the_very_end_are_refused() -> None:
    for data in (b"\xff", b"\x80\x01", b"\xff\xff\xff"):
        for start in range(len(data) * 8 + 1):
            left = len(data) * 8 - start
            for n in (1, 8, 9, 16):
                r = BitReader(data, start)
                if n > left:
                    with pytest.raises(ExiError, match="ends early"):
                        r.read(n)
                else:
                    assert r.read(n) == int("".join(format(b, "08b") for b in data)[start:start + n], 2)
            r = BitReader(data, start)
            if left < 8:
                with pytest.raises(ExiError, match="ends early"):
                    r.read_uint()


_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _base64_candidates(rng: random.Random) -> list[str]:
    out = [base64.b64encode(rng.randbytes(n)).decode() for n in range(12)]
    out += ["", "=", "==", "====", "A===", "AA==", "AB==", "AAA=", "AAB=", "AA=A", "AAAA====",
            "AAAAA", "AAAAAA", " AAAA", "AAAA ", "AA AA", "AA\nAA", "\x01AAAA", "AAAA\x00", "AA\u00e9A",
            "AAAA=", "AA==\n", "-_AA", "AA==AA==",
            # padding in odd places (the fast path looks only at the third character from the end)
            "AAAAAA=A", "AAAA=AAA", "AAA=AAAA", "AA=AAAAA", "AAAAAAA=====", "AAAAA=======", "AAAA===A",
            "AAAAAAAA====", "AAAAAA==AAAA"]
    symbols = _B64_ALPHABET[:6] + "+/= \n\t\r\x0b\u00a0"
    for _ in range(3000):
        out.append("".join(rng.choice(symbols) for _ in range(rng.randrange(0, 13))))
    for _ in range(300):  # valid text with one character changed
        t = list(base64.b64encode(rng.randbytes(rng.randrange(1, 9))).decode())
        t[rng.randrange(len(t))] = rng.choice(symbols)
        out.append("".join(t))
    return out


def test_base64_fast_path_agrees_with_the_lexical_rules() -> None:
    rng = random.Random(15118)
    b64 = BinaryType(False)
    for text in _base64_candidates(rng):
        assert parse_base64(text) == parse_base64_lexical(text), repr(text)
        # an element's text: the facet, then the lexical rules (text_octets checks strict
        # mode's result by the decoded length instead)
        collapsed = apply_whitespace(text, COLLAPSE)
        assert b64.text_octets(text) == (parse_base64_lexical(collapsed) if collapsed else None), repr(text)


def _facet_by_hand(text: str, ws: str) -> str:
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    if ws == COLLAPSE:
        text = " ".join(p for p in text.split(" ") if p)
    return text


def test_whitespace_shortcut_agrees_with_the_facet() -> None:
    rng = random.Random(2)
    for _ in range(3000):
        text = "".join(rng.choice("ab \t\n\r\u00a0") for _ in range(rng.randrange(0, 8)))
        for ws in (REPLACE, COLLAPSE):
            assert apply_whitespace(text, ws) == _facet_by_hand(text, ws), (repr(text), ws)


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_xml_written_while_decoding_is_to_xml_of_the_tree(vec: dict[str, object]) -> None:
    data = bytes.fromhex(str(vec["exi"]))
    schema, fragment = str(vec["schema"]), bool(vec["fragment"])
    assert exi_to_xml(data, schema, fragment) == to_xml(decode(data, schema, fragment))


def _datatypes() -> list[Datatype]:
    """Every datatype a value is written with, found by walking every grammar."""
    found: dict[int, Datatype] = {}
    for name in SCHEMA_SETS:
        g = grammars_for(name)
        todo, seen = [g.document, g.fragment], set()
        while todo:
            state = todo.pop()
            if id(state) in seen:
                continue
            seen.add(id(state))
            for p in state.prods:
                if isinstance(p.payload, Datatype):
                    found[id(p.payload)] = p.payload
                if p.next is not None:
                    todo.append(p.next)
                if p.kind == SE:
                    todo.append(p.start or g.start_of(p))
            if state.content2 is not None:
                todo.append(state.content2)
    return list(found.values())


def _by_the_steps(dt: Datatype, text: str) -> tuple[int, int] | None:
    if dt.whitespace != PRESERVE:
        text = apply_whitespace(text, dt.whitespace)
    v = dt.parse(text) if text else None
    return None if v is None else dt.encoding(v)


def test_text_bits_is_facet_parse_encoding() -> None:
    rng = random.Random(2013)
    texts = _base64_candidates(rng)[:600] + ["", " ", "  \t", "0", "+1", "-1", " 12 ", "1 2", "true", " false\n",
                                              "abc", " a  b ", "\u00e9t\u00e9", "0A1B", "0a1b ", "0A 1B", "x" * 300]
    datatypes = _datatypes()
    assert any(isinstance(dt, BinaryType) for dt in datatypes)
    for dt in datatypes:
        values = list(getattr(dt, "values", ()))
        for text in texts + values + [f" {v} " for v in values] + [f"{v}\n" for v in values]:
            expected = _by_the_steps(dt, text)
            assert dt.text_bits(text) == expected, (dt, text)
            if isinstance(dt, BinaryType):
                octets = dt.text_octets(text)
                assert (None if octets is None else dt.encoding(octets)) == expected, (dt, text)


def _string_by_the_steps(r: BitReader) -> str:
    n = r.read_uint("string length")
    if n < 2:
        raise ExiError("value table hit", 0, "")
    return read_string_chars(r, n - 2, "string")


@pytest.mark.parametrize("seed", range(8))
def test_string_and_binary_reads_in_place_agree_with_the_steps(seed: int) -> None:
    """StringType.read's and BinaryType.read's in-place reads against read_uint, then the
    characters or octets through BitReader, at every alignment, whole and truncated."""
    rng = random.Random(seed)
    binary = BinaryType(False)
    for _ in range(150):
        lead = rng.randrange(0, 17)
        w = BitWriter()
        w.write(rng.getrandbits(lead) if lead else 0, lead)
        if rng.random() < 0.5:
            text = "".join(rng.choice("ab<&\u00e9\u20ac\x00") for _ in range(rng.choice((0, 1, 5, 125, 126, 200))))
            STRING.write(w, text)
            read_fast, read_ref = STRING.read, _string_by_the_steps
        else:
            raw = rng.randbytes(rng.choice((0, 1, 64, 127, 128, 900)))
            binary.write(w, raw)
            read_fast = binary.read

            def read_ref(r: BitReader, n: int = len(raw)) -> str:
                assert r.read_uint() == n
                return base64.b64encode(r.read_bytes(n)).decode()
        data = w.getvalue()
        for cut in (len(data), len(data) - 1, rng.randrange(0, len(data) + 1)):
            a, b = BitReader(data[:cut], lead), BitReader(data[:cut], lead)
            try:
                want: object = read_ref(b)
            except ExiError:
                want = ExiError
            try:
                got: object = read_fast(a)
            except ExiError:
                got = ExiError
            assert got == want
            if want is not ExiError:
                assert a.pos == b.pos


def test_uint_octets_is_write_uint() -> None:
    """uint_octets (with its one- and two-octet shortcuts) gives write_uint's bytes."""
    for v in [*range(0, 0x4100), 0x1FFFFF, 0x200000, 2**40, 2**70 + 5]:
        w = BitWriter()
        w.write_uint(v)
        assert uint_octets(v) == w.getvalue(), v


def test_string_encoding_is_length_then_characters() -> None:
    """StringType.encoding's one-octet-length shortcut against a BitWriter writing the
    length + 2 as an unsigned integer, then each character's code point."""
    rng = random.Random(20)
    texts = ["", "a", "\u00e9", "x" * 125, "x" * 126, "x" * 127, "\u20ac" * 130]
    texts += ["".join(rng.choice("ab<&\u00e9\U0001f600") for _ in range(rng.randrange(0, 200))) for _ in range(300)]
    for text in texts:
        w = BitWriter()
        w.write_uint(len(text) + 2)
        for ch in text:
            w.write_uint(ord(ch))
        bits, n = STRING.encoding(text)
        assert n == w.bit_length() and bits.to_bytes(n // 8, "big") == w.getvalue(), repr(text)


def _tree_dump(e: object) -> list[object]:
    import xml.etree.ElementTree as ET

    assert isinstance(e, ET.Element)
    return [e.tag, sorted(e.attrib.items()), e.text, e.tail, [_tree_dump(c) for c in e]]


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_parse_xml_paths_agree(vec: dict[str, object]) -> None:
    """Both of parse_xml's paths give the same tree, xsi:type values in Clark notation; the
    text EXIficient writes declares the xsi namespace whether or not it uses it."""
    data = bytes.fromhex(str(vec["exi"]))
    ours = exi_to_xml(data, str(vec["schema"]), bool(vec["fragment"]))
    for text in (str(vec["xml"]), ours):
        tree = parse_xml(text)
        assert _tree_dump(tree) == _tree_dump(_parse_resolving(text))
        if ":type" not in text:  # the C parser alone: no xsi:type value to resolve
            assert all("}type" not in k for e in tree.iter() for k in e.attrib)


def test_every_event_but_ed_reads_a_bit() -> None:
    """The decoder counts events only in streams longer than MAX_EVENTS - 2 bits: that holds
    because in every state but DocEnd (ED) a first-level code or, past it, a second-level
    code takes at least one bit (DocContent of a schema without global elements, one SE(*),
    is the other exception the bound allows for; no schema set here has one)."""
    import gc

    from v2g.exi.grammar import DOC_END, State

    for name in SCHEMA_SETS:
        grammars_for(name)
    states = [s for s in gc.get_objects() if isinstance(s, State)]
    assert len(states) > 1000
    for s in states:
        if s.kind != DOC_END:
            assert s.w1 >= 1 or (s.second and s.w2 >= 1), s
