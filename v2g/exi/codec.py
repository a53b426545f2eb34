"""EXI body decoder and encoder driven by the grammar tables of :mod:`v2g.exi.grammar`.

The tree type is :class:`xml.etree.ElementTree.Element` with ``{uri}local`` tags; values are
kept in their lexical form. The decoder writes either such trees or, with no tree in between,
XML text (``decode_xml``: the same text ``xmlio.to_xml`` makes of the tree). Per-stream state
is only the string tables (URIs and local names, pre-populated from the schema); the value
tables stay empty (valuePartitionCapacity 0).

Speed (issue #19 point 7) without changing a bit: the common cases have fast paths that
produce exactly what the general path would, each proven on the EXIficient vectors and the
oracle: an element of simple type without attributes (SE, CH, value, EE) is decoded in one
turn of the event loop and encoded in one write (three around a binary value of more than
64 octets: codes, octets, EE), with what it needs looked up once per grammar state and tag;
an element's single declared attribute is encoded with its code in one write; declared
elements are looked up by their Clark tag. The decoder takes each event code from a
per-state table (``State.by_code``, ``shift``, ``mask``); the encoder walks the tree in one
loop without recursion, keeping pending bits in local variables and bringing the writer
up to date around every call to its general methods.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache, lru_cache
from typing import Any

from v2g.errors import ExiError
from v2g.exi.bits import BitReader, BitWriter, coding_length
from v2g.exi.datatypes import (
    BOOLEAN,
    PRESERVE,
    STRING,
    apply_whitespace,
    read_string_chars,
    write_string_chars,
)
from v2g.exi.grammar import (
    AT,
    AT_ANY,
    BUILTIN_ELEMENT_STATE,
    BUILTIN_START,
    BUILTIN_START_LEARNED,
    BUILTIN_START_STATE,
    CH,
    CH_ANY,
    ED,
    EE,
    FIRST_START_TAG,
    SE,
    SE_ANY,
    START_TAG,
    X_AT_ANY,
    X_AT_INVALID,
    X_CH,
    X_EE,
    X_SE_ANY,
    X_XSI_NIL,
    X_XSI_TYPE,
    Grammars,
    QName,
    State,
)
from v2g.exi.model import XS_NS, XSI_NS
from v2g.exi.xmlio import KNOWN_NAMES, XmlNames, escape_text

# EXI header: distinguishing bits "10", no options, final version 1 (EXI 1.0 section 5).
HEADER_BYTE = 0x80
MAX_DEPTH = 64  # V2G messages nest about 10 deep; deeper input is refused, not recursed into
# Every event takes at least one bit, so work is linear in the input; this cap keeps the tree
# (hundreds of bytes per element) bounded too. The largest ISO 15118-2 message (1024 sales
# tariff entries) has about 10,000 events.
MAX_EVENTS = 200_000

XSI_TYPE = (XSI_NS, "type")
XSI_NIL = (XSI_NS, "nil")
_XSI_TYPE_TAG = f"{{{XSI_NS}}}type"
_XSI_NIL_TAG = f"{{{XSI_NS}}}nil"
BIT = (0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01)  # the bit at offset k of a byte, MSB first


def tag_of(qn: QName) -> str:
    return f"{{{qn[0]}}}{qn[1]}" if qn[0] else qn[1]


@lru_cache(maxsize=4096)  # tags repeat: a schema has a few hundred names
def qname_of(tag: str) -> QName:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return (uri, local)
    return ("", tag)


@cache
def _prepopulated(g: Grammars) -> tuple[list[str], dict[str, int], dict[str, list[str]],
                                        dict[str, dict[str, int]]]:
    """The schema's string tables and their indexes, built once per grammar; never changed."""
    uris = list(g.uris)
    names = {u: list(g.local_names.get(u, [])) for u in uris}
    return (uris, {u: i for i, u in enumerate(uris)}, names,
            {u: {n: i for i, n in enumerate(ns)} for u, ns in names.items()})


class StringTables:
    """URI and local-name partitions of the string table for one stream."""

    def __init__(self, g: Grammars) -> None:
        # The tables are the schema's, shared, until this stream adds a name, which only names
        # outside the schema do: then the top-level tables are copied, and each partition when
        # a name is added to it (indexing 450 names for every stream was a quarter of the cost
        # of encoding a signed element, docs/ccp-performance.md; copying the top level for
        # every stream, a few per cent of decoding a message).
        self.uris, self.uri_index, self.locals, self.local_index = _prepopulated(g)
        self._own: set[str] | None = None  # None: nothing copied yet; else URIs whose partitions are ours
        # qnames whose built-in grammar has learned AT(xsi:type) in this stream
        self.learned_builtin: set[QName] = set()

    def builtin_start(self, qn: QName) -> State:
        return BUILTIN_START_LEARNED if qn in self.learned_builtin else BUILTIN_START_STATE

    # -- decoding

    def read_qname(self, r: BitReader) -> QName:
        start = r.pos
        n = r.read(coding_length(len(self.uris) + 1), "URI")
        if n == 0:
            length = r.read_uint("URI length")
            uri = read_string_chars(r, length, "URI")
            self._add_uri(uri)
        elif n - 1 < len(self.uris):
            uri = self.uris[n - 1]
        else:
            raise ExiError(f"URI index {n - 1} not in the string table", start, "a known URI")
        pos = r.pos
        k = r.read_uint("local-name length")
        names = self.locals[uri]
        if k == 0:
            i = r.read(coding_length(len(names)), "local-name index")
            if i >= len(names):
                raise ExiError(f"local-name index {i} not in the string table", pos, "a known local name")
            return (uri, names[i])
        local = read_string_chars(r, k - 1, "local name")
        self._add_local(uri, local)
        return (uri, local)

    # -- encoding

    def write_qname(self, w: BitWriter, qn: QName) -> None:
        uri, local = qn
        width = coding_length(len(self.uris) + 1)
        i = self.uri_index.get(uri)
        if i is None:
            w.write(0, width)
            w.write_uint(len(uri))
            write_string_chars(w, uri)
            self._add_uri(uri)
        else:
            w.write(i + 1, width)
        j = self.local_index[uri].get(local)
        if j is None:
            w.write_uint(len(local) + 1)
            write_string_chars(w, local)
            self._add_local(uri, local)
        else:
            w.write_uint(0)
            w.write(j, coding_length(len(self.locals[uri])))

    def _owned(self) -> set[str]:
        """Copy the top-level tables on the stream's first addition; the URIs it owns."""
        if self._own is None:
            self.uris = list(self.uris)
            self.uri_index = dict(self.uri_index)
            self.locals = dict(self.locals)
            self.local_index = dict(self.local_index)
            self._own = set()
        return self._own

    def _add_uri(self, uri: str) -> None:
        if uri not in self.uri_index:
            own = self._owned()
            self.uri_index[uri] = len(self.uris)
            self.uris.append(uri)
            self.locals[uri] = []
            self.local_index[uri] = {}
            own.add(uri)

    def _add_local(self, uri: str, local: str) -> None:
        idx = self.local_index[uri]
        if local not in idx:
            own = self._owned()
            if uri not in own:
                own.add(uri)
                self.locals[uri] = list(self.locals[uri])
                self.local_index[uri] = idx = dict(idx)
            idx[local] = len(self.locals[uri])
            self.locals[uri].append(local)


# ----------------------------------------------------------------------------- decoding


# An open element is a list [state, tag, node, flag] (a list, not an object: one is made per
# element, and the decoder reads and writes these four slots in every event):
#   state - its grammar state;  tag - its name in Clark notation;
#   tree output: node the Element, flag its last child so far (text after it is its tail);
#   XML text output: node its end tag ("</prefix:name>"), flag True while its start tag is
#   still open.
Frame = list


class _Text:
    """XML text output: the parts written so far and the document's prefixes."""

    __slots__ = ("names", "out", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.out = self.parts.append
        self.names = XmlNames()


def _put_text(frame: Frame, text: str, xml: _Text | None) -> None:
    if xml is None:
        last = frame[3]
        if last is None:
            frame[2].text = (frame[2].text or "") + text
        else:
            last.tail = (last.tail or "") + text
    elif text:
        if frame[3]:
            frame[3] = False
            xml.out(">" + escape_text(text))
        else:
            xml.out(escape_text(text))


def _put_attribute(frame: Frame, tag: str, value: str, xml: _Text | None) -> None:
    if xml is None:
        frame[2].set(tag, value)
    else:
        xml.out(xml.names.attribute(tag, value))


def _start_element(stack: list[Frame], roots: list[ET.Element | str], tag: str, state: State,
                   pos: int, xml: _Text | None) -> None:
    if len(stack) > MAX_DEPTH:  # the bottom frame is the document's, not an element's
        raise ExiError("elements nested too deeply", pos, f"at most {MAX_DEPTH} levels")
    if xml is None:
        if len(stack) > 1:
            parent = stack[-1]
            elem = parent[3] = ET.SubElement(parent[2], tag)
        else:
            elem = ET.Element(tag)
            roots.append(elem)
        stack.append([state, tag, elem, None])
        return
    name = xml.names.name(tag)
    if len(stack) > 1:
        parent = stack[-1]
        if parent[3]:
            parent[3] = False
            xml.out("><" + name)
        else:
            xml.out("<" + name)
    else:
        roots.append(name)
        xml.out("<" + name)
    stack.append([state, tag, f"</{name}>", True])


def decode_body(data: bytes, g: Grammars, fragment: bool) -> list[ET.Element]:
    """The root elements of an EXI stream (a document has one), as element trees."""
    return _decode(data, g, fragment, None)  # type: ignore[return-value]


def decode_xml(data: bytes, g: Grammars, fragment: bool) -> str:
    """An EXI stream with exactly one root element as XML text, written while decoding (no
    element tree): the same text as ``to_xml`` of ``decode_body``'s root."""
    xml = _Text()
    roots = _decode(data, g, fragment, xml)
    if len(roots) != 1:
        raise ExiError(f"stream holds {len(roots)} root elements", 0, "exactly one root element")
    xml.parts[0] += xml.names.declarations()
    return "".join(xml.parts)


def _decode(data: bytes, g: Grammars, fragment: bool, xml: _Text | None) -> list[ET.Element | str]:
    """The event loop; ``xml`` None builds trees, else writes XML text into it. Returns the
    roots (elements, or their prefixed names for text)."""
    if not data:
        raise ExiError("empty stream", 0, "the EXI header")
    r = BitReader(data)
    if data[:4] == b"$EXI":
        r.pos = 32
    start = r.pos
    head = r.read(8, "EXI header")  # distinguishing bits, options presence, preview, version
    if head >> 6 != 2:
        raise ExiError("not an EXI stream (distinguishing bits are not 10)", start, "bits 10")
    if head & 0x20:
        raise ExiError("EXI header carries options; only default options are supported", start + 2,
                       "options presence bit 0")
    if head & 0x1F:
        raise ExiError("unsupported EXI version", start + 3, "final version 1")
    tables = StringTables(g)
    roots: list[ET.Element | str] = []
    # The bottom frame is the document's (or fragment's): its state is the top-level grammar.
    base: Frame = [g.fragment if fragment else g.document, None, None, False]
    stack: list[Frame] = [base]
    # Event codes of up to 9 bits are read inline from two bytes (the reader's buffer is
    # zero-padded); wider ones, rare, go through BitReader.read (State.fast_w).
    buf = r.data
    end = r.end
    if xml is None:
        out = names = prefixes = None
    else:
        out, names = xml.out, xml.names
        prefixes = names.prefixes
    known_name = KNOWN_NAMES.get

    # Every event but ED reads at least one bit (each element state has a second level, so
    # its codes take a bit or more), apart from SE(*) in a document without declared global
    # elements: a stream of at most MAX_EVENTS - 2 bits cannot hold more events, and only
    # longer ones are counted.
    counting = end - r.pos > MAX_EVENTS - 2
    events = 0
    while True:
        if counting:
            events += 1
            if events > MAX_EVENTS:
                raise ExiError(f"more than {MAX_EVENTS} events", r.pos, "a smaller message")
        frame = stack[-1]
        state = frame[0]
        start = r.pos
        w1 = state.fast_w
        if start + w1 > end:  # near the end, or a code wider than 9 bits
            code = r.read(state.w1, "event code")
        else:
            i = start >> 3
            code = (((buf[i] << 8) | buf[i + 1]) >> (state.shift - (start & 7))) & state.mask
            r.pos = start + w1
        p = state.by_code[code]
        if p is not None:
            kind = p.kind
            if kind == SE:
                if frame is base:
                    frame[0] = p.next
                elif out is not None and len(stack) <= MAX_DEPTH:  # XML text: the common case inline
                    frame[0] = p.next
                    tag = p.tag
                    known = known_name(tag)  # (name, URI, "<name", "><name", "</name>")
                    if known is None or known[1] not in prefixes:
                        name = names.name(tag)  # type: ignore[union-attr]
                        known = (name, None, "<" + name, "><" + name, f"</{name}>")
                    if frame[3]:
                        frame[3] = False
                        lead = known[3]
                    else:
                        lead = known[2]
                    child = p.start or g.start_of(p)
                    simple = child.simple
                    if simple is not None:
                        # An element of simple type: CH is its start tag's code 0 in one bit, and
                        # EE the code 0 in one bit after the value (State.simple). When the
                        # stream has both (the usual case), the value and EE are read here, in
                        # one turn of the loop.
                        pos = r.pos
                        if pos < end and not buf[pos >> 3] & BIT[pos & 7]:
                            r.pos = pos + 1
                            dt = simple[1]
                            value = dt.read(r)
                            pos = r.pos
                            events += 1
                            if pos < end and not buf[pos >> 3] & BIT[pos & 7]:
                                r.pos = pos + 1
                                events += 1
                                if not value:
                                    out(lead + " />")
                                elif dt.plain:
                                    out(f"{lead}>{value}{known[4]}")
                                else:
                                    out(f"{lead}>{escape_text(value)}{known[4]}")
                                continue
                            # something else follows the value: the element stays open
                            if value:
                                out(f"{lead}>{escape_text(value)}")
                            else:
                                out(lead)
                            stack.append([simple[2], tag, known[4], not value])
                            continue
                    out(lead)
                    stack.append([child, tag, known[4], True])
                    continue
                else:
                    frame[0] = p.next
                _start_element(stack, roots, p.tag, p.start or g.start_of(p), start, xml)  # type: ignore[arg-type]
            elif kind == EE:
                stack.pop()
                if out is not None:
                    out(" />" if frame[3] else frame[2])  # type: ignore[index]
            elif kind == CH or kind == CH_ANY:
                value = p.payload.read(r)
                frame[0] = p.next  # type: ignore[index]
                if out is None:
                    _put_text(frame, value, xml)  # type: ignore[arg-type]
                elif value:
                    if frame[3]:  # type: ignore[index]
                        frame[3] = False  # type: ignore[index]
                        out(">" + escape_text(value))
                    else:
                        out(escape_text(value))
            elif kind == AT:
                if p.payload is None:  # the learned AT(xsi:type) of a built-in grammar
                    _generic_attribute(r, g, tables, frame, p.qname, start, xml)  # type: ignore[arg-type]
                elif out is not None:
                    out(names.attribute(p.tag, p.payload.read(r)))  # type: ignore[union-attr]
                    frame[0] = p.next  # type: ignore[index]
                else:
                    frame[2].set(p.tag, p.payload.read(r))  # type: ignore[index]
                    frame[0] = p.next  # type: ignore[index]
            elif kind == SE_ANY:
                qn = tables.read_qname(r)
                frame[0] = p.next
                _start_element(stack, roots, tag_of(qn), g.global_start(qn) or tables.builtin_start(qn),
                               start, xml)
            elif kind == AT_ANY:
                qn = tables.read_qname(r)
                frame[0] = p.next  # type: ignore[index]
                _generic_attribute(r, g, tables, frame, qn, start, xml)  # type: ignore[arg-type]
            else:  # ED
                break
            continue
        prods = state.prods
        if not state.second or code != len(prods) or frame is base:
            raise ExiError(f"impossible event code {code} in {state.label}", start, state.expected())
        pos2 = r.pos
        code2 = r.read(state.w2, "second-level event code")
        if code2 >= len(state.second):
            raise ExiError(f"impossible event code {code}.{code2} in {state.label}", pos2, state.expected())
        event = state.second[code2]
        if event == X_EE:
            stack.pop()
            if out is not None:
                out(" />" if frame[3] else frame[2])
        elif event == X_XSI_TYPE:
            _xsi_type(r, g, tables, frame, xml)
        elif event == X_XSI_NIL:
            nil = BOOLEAN.read(r)
            _put_attribute(frame, _XSI_NIL_TAG, nil, xml)
            if nil == "true":
                frame[0] = g.type_empty(state)
        elif event == X_AT_ANY:
            qn = tables.read_qname(r)
            _generic_attribute(r, g, tables, frame, qn, pos2, xml)
        elif event == X_AT_INVALID:
            pos3 = r.pos
            rank = r.read(state.w_at, "declared-attribute rank")
            if rank < state.n_at:
                p = prods[state.least_at + rank]
                _put_attribute(frame, p.tag, STRING.read(r), xml)  # type: ignore[arg-type]
                frame[0] = p.next
            elif rank == state.n_at:
                qn = tables.read_qname(r)
                _put_attribute(frame, tag_of(qn), STRING.read(r), xml)
            else:
                raise ExiError(f"attribute rank {rank} out of range", pos3, f"at most {state.n_at}")
        elif event == X_SE_ANY:
            qn = tables.read_qname(r)
            frame[0] = _after_content_event(state)
            _start_element(stack, roots, tag_of(qn), g.global_start(qn) or tables.builtin_start(qn),
                           pos2, xml)
        else:  # X_CH
            _put_text(frame, STRING.read(r), xml)
            frame[0] = _after_content_event(state)
    return roots


def _xsi_type(r: BitReader, g: Grammars, tables: StringTables, frame: Frame, xml: _Text | None) -> None:
    qn = tables.read_qname(r)
    # a QName value: kept in Clark notation, as prefixes are not preserved (see xmlio)
    _put_attribute(frame, _XSI_TYPE_TAG, tag_of(qn), xml)
    st = g.type_start_by_qname(qn)
    if st is not None:  # an unknown type leaves the grammar as it is
        frame[0] = st


def _generic_attribute(r: BitReader, g: Grammars, tables: StringTables, frame: Frame, qn: QName,
                       pos: int, xml: _Text | None) -> None:
    """AT(*): xsi:type and xsi:nil keep their meaning (QName / boolean value) whatever the code."""
    if qn == XSI_TYPE:
        if frame[0].kind == BUILTIN_START:
            tables.learned_builtin.add(qname_of(frame[1]))
        _xsi_type(r, g, tables, frame, xml)
    elif qn == XSI_NIL:
        nil = BOOLEAN.read(r)
        _put_attribute(frame, _XSI_NIL_TAG, nil, xml)
        if nil == "true" and frame[0].kind in (FIRST_START_TAG, START_TAG):
            frame[0] = g.type_empty(frame[0])
    else:
        _put_attribute(frame, tag_of(qn), g.attribute_datatype(qn).read(r), xml)


def _after_content_event(state: State) -> State:
    if state.kind in (FIRST_START_TAG, START_TAG):
        assert state.content2 is not None
        return state.content2
    if state.kind == BUILTIN_START:
        return BUILTIN_ELEMENT_STATE
    return state


# ----------------------------------------------------------------------------- encoding


class _Encoder:
    def __init__(self, g: Grammars) -> None:
        self.g = g
        self.w = BitWriter()
        self.tables = StringTables(g)

    def fail(self, message: str, state: State | None) -> ExiError:
        return ExiError(message, self.w.bit_length(), state.expected() if state else "")

    def code2(self, state: State, event: int) -> bool:
        i = state.second_code(event)
        if i is None:
            return False
        self.w.write(len(state.prods), state.w1)
        self.w.write(i, state.w2)
        return True

    def open(self, elem: ET.Element, parent: State) -> tuple[State, State, bool]:
        """SE of ``elem`` in ``parent`` and its start tag (attributes, xsi:type, xsi:nil):
        the state after the start tag, the parent's next state, and whether it is nil."""
        tag = elem.tag
        i = parent.se_tag.get(tag)
        if i is not None:  # a declared element: the common case
            p = parent.prods[i]
            self.w.write(i, parent.w1)
            state = p.start or self.g.start_of(p)
            nxt = p.next
        else:
            state, nxt = self.undeclared_start(tag, parent)
        attrib = elem.attrib
        if attrib and len(attrib) == 1 and state.kind != BUILTIN_START:
            one = _single_attribute(state, attrib)
            if one is not None:
                self.w.write(one[0], one[1])
                return one[2], nxt, False  # type: ignore[return-value]
        if attrib or state.kind == BUILTIN_START:
            state, nil = self.start_tag(elem, state)
            return state, nxt, nil  # type: ignore[return-value]
        return state, nxt, False  # type: ignore[return-value]

    def element(self, root: ET.Element, parent: State, depth: int) -> State:
        """Encode ``root`` whole (SE, attributes, content, EE) in ``parent``, at nesting
        ``depth``; return the parent's next state.

        One loop over the tree, no recursion: ``stack`` holds, per open element, the
        iterator over its parent's children, the parent, and the parent's state after the
        element. What each declared child needs is looked up once per grammar state and
        tag (``State.children``, see ``_child_entry``); the bits of the common events are
        collected in local variables (``acc``: ``nacc`` pending bits, flushed to the
        writer's buffer in whole bytes), and the writer is brought up to date
        (``w.acc``, ``w.nacc``) around every call to the general methods."""
        if depth > MAX_DEPTH:
            raise self.fail("elements nested too deeply", parent)
        w = self.w
        g = self.g
        characters = self.characters
        state, resume, nil = self.open(root, parent)
        stack: list[tuple[Any, ...]] = [(None, None, resume)]
        limit = MAX_DEPTH - depth  # the most open elements below ``root``'s parent
        elem = root
        buf = w.buf
        acc, nacc = w.acc, w.nacc
        it: Any = None  # None: ``elem`` has just been opened
        while True:
            if it is None:
                if nil:
                    if (elem.text or "").strip() or len(elem):
                        w.acc, w.nacc = acc, nacc
                        raise self.fail("an element with xsi:nil='true' must be empty", state)
                else:
                    text = elem.text
                    if len(elem):
                        if text:
                            w.acc, w.nacc = acc, nacc
                            state = characters(state, text, False)
                            acc, nacc = w.acc, w.nacc
                        it = iter(elem)
                    elif text:
                        # text right after the start tag and before the end tag is "simple data"
                        w.acc, w.nacc = acc, nacc
                        state = characters(state, text, True)
                        acc, nacc = w.acc, w.nacc
            if it is not None:
                for child in it:
                    tag = child.tag
                    entry = state.children.get(tag)
                    if entry is None:
                        entry = state.children[tag] = _child_entry(g, state, tag)
                    if entry[0]:
                        value = child.text
                        # (keys(), not attrib: reading attrib gives an element without
                        # attributes a dictionary)
                        if value and isinstance(value, str) and not len(child) and not child.keys() \
                                and len(stack) <= limit:
                            # an element of simple type: SE and CH codes, the value, EE in one write
                            _, codes, width, dt, ee, ee_width, after_child = entry
                            if dt.octets:
                                v = dt.text_octets(value)
                                if v is not None and len(v) > 64:
                                    # a long binary value (a certificate): the codes, then the
                                    # length and octets shifted once (BitWriter.write_counted);
                                    # what is left to add below is EE alone
                                    w.acc, w.nacc = acc << width | codes, nacc + width
                                    w.write_counted(v)
                                    acc, nacc = w.acc, w.nacc
                                    codes = width = 0
                                    enc = (0, 0)
                                else:
                                    enc = None if v is None else dt.encoding(v)
                            else:
                                enc = dt.text_bits(value)
                            if enc is not None:
                                bits, n = enc
                                acc = (((((acc << width) | codes) << n) | bits) << ee_width) | ee
                                nacc += width + n + ee_width
                                if nacc >= 512:
                                    rest = nacc & 7
                                    buf += (acc >> rest).to_bytes(nacc >> 3, "big")
                                    acc &= (1 << rest) - 1
                                    nacc = rest
                                state = after_child
                                if child.tail:
                                    w.acc, w.nacc = acc, nacc
                                    state = characters(state, child.tail, False)
                                    acc, nacc = w.acc, w.nacc
                                continue
                    if len(stack) > limit:
                        w.acc, w.nacc = acc, nacc
                        raise self.fail("elements nested too deeply", state)
                    attrib = child.attrib
                    if entry[0] is False and (not attrib or len(attrib) == 1):
                        # a declared child of complex type, no attribute or one: SE inline
                        _, code, w1, start, after_child = entry
                        acc = (acc << w1) | code
                        nacc += w1
                        stack.append((it, elem, after_child))
                        state = start
                        if attrib:
                            one = _single_attribute(state, attrib)
                            if one is not None:
                                acc = (acc << one[1]) | one[0]
                                nacc += one[1]
                                state = one[2]
                            else:
                                w.acc, w.nacc = acc, nacc
                                state, nil = self.start_tag(child, state)
                                acc, nacc = w.acc, w.nacc
                    else:
                        w.acc, w.nacc = acc, nacc
                        state, after_child, nil = self.open(child, state)
                        acc, nacc = w.acc, w.nacc
                        stack.append((it, elem, after_child))
                    elem = child
                    it = None
                    break
                else:
                    it = False  # every child done: close ``elem``
                if it is None:
                    continue
            # close ``elem``: EE (nil elements end with the EE of their type_empty state)
            ee = state.ee
            if ee is not None:
                acc = (acc << state.w1) | ee
                nacc += state.w1
                if nacc >= 512:
                    rest = nacc & 7
                    buf += (acc >> rest).to_bytes(nacc >> 3, "big")
                    acc &= (1 << rest) - 1
                    nacc = rest
            else:
                w.acc, w.nacc = acc, nacc
                self.end_element(state)
                acc, nacc = w.acc, w.nacc
            nil = False
            it, parent_elem, state = stack.pop()
            if not stack:
                w.acc, w.nacc = acc, nacc
                return state
            tail = elem.tail
            elem = parent_elem
            if tail:
                w.acc, w.nacc = acc, nacc
                state = characters(state, tail, False)
                acc, nacc = w.acc, w.nacc

    def undeclared_start(self, tag: object, parent: State) -> tuple[State, State]:
        """SE(*) or the second-level SE(*) for an element ``parent`` does not declare: the
        element's grammar and the parent's next state."""
        if not isinstance(tag, str):
            raise self.fail("comments and processing instructions cannot be encoded", parent)
        qn = qname_of(tag)
        if parent.se_any is not None:
            p = parent.prods[parent.se_any]
            self.w.write(parent.se_any, parent.w1)
            nxt = p.next
        elif self.code2(parent, X_SE_ANY):
            nxt = _after_content_event(parent)
        else:
            raise self.fail(f"element {tag} not allowed here", parent)
        self.tables.write_qname(self.w, qn)
        return self.g.global_start(qn) or self.tables.builtin_start(qn), nxt  # type: ignore[return-value]

    def start_tag(self, elem: ET.Element, state: State) -> tuple[State, bool]:
        """The attributes of ``elem`` (xsi:type and xsi:nil first, then sorted by qname);
        the state after them, and whether the element is nil."""
        attrs = dict(elem.attrib)
        xsi_type = attrs.pop(_XSI_TYPE_TAG, None)
        xsi_nil = attrs.pop(_XSI_NIL_TAG, None)
        if state.kind == BUILTIN_START:
            # An element without declaration: with maximumNumberOfBuiltInElementGrammars = 0
            # no built-in grammar may be used, so (as EXIficient does, EXI Profile 3.2) an
            # xsi:type cast is inserted through AT(*): to xs:anyType unless one was given.
            qn = self._type_qname(xsi_type, elem) if xsi_type is not None else (XS_NS, "anyType")
            st = self.g.type_start_by_qname(qn)
            if st is None:
                raise self.fail(f"xsi:type {tag_of(qn)} is not a known type", state)
            self.code2(state, X_AT_ANY)
            self.tables.write_qname(self.w, XSI_TYPE)
            self.tables.write_qname(self.w, qn)
            self.tables.learned_builtin.add(qname_of(elem.tag))
            state = st
        elif xsi_type is not None:
            qn = self._type_qname(xsi_type, elem)
            if not self.code2(state, X_XSI_TYPE):
                raise self.fail(f"xsi:type {xsi_type!r} cannot be encoded here", state)
            self.tables.write_qname(self.w, qn)
            # an unknown type is still sent (EXIficient does); the grammar stays as it is
            state = self.g.type_start_by_qname(qn) or state
        nil = False
        if xsi_nil is not None:
            v = BOOLEAN.parse(xsi_nil)
            if v is None:
                # not a boolean: AT(*) [untyped value] with the rank past the declared ones
                if not self.code2(state, X_AT_INVALID):
                    raise self.fail(f"xsi:nil {xsi_nil!r} cannot be encoded here", state)
                self.w.write(state.n_at, state.w_at)
                self.tables.write_qname(self.w, XSI_NIL)
                STRING.write(self.w, xsi_nil)
            elif v:
                if not self.code2(state, X_XSI_NIL):
                    raise self.fail("xsi:nil cannot be encoded here", state)
                BOOLEAN.write(self.w, v)
                nil = True
                state = self.g.type_empty(state)
            # xsi:nil="false" says nothing: EXIficient leaves it out, and so do we
        if len(attrs) == 1:
            for tag, value in attrs.items():
                state = self.attribute(state, qname_of(tag), value)
        elif attrs:
            for tag in sorted(attrs, key=lambda t: (qname_of(t)[1], qname_of(t)[0])):
                state = self.attribute(state, qname_of(tag), attrs[tag])
        return state, nil

    def attribute(self, state: State, qn: QName, value: str) -> State:
        if not isinstance(value, str):
            raise self.fail(f"attribute {tag_of(qn)} has a {type(value).__name__} value, not text", state)
        i = state.at.get(qn)
        if i is not None:
            p = state.prods[i]
            v = p.payload.parse(value)
            if v is None:
                # a value its type refuses: AT [untyped value], naming the attribute by rank
                if not self.code2(state, X_AT_INVALID):
                    raise self.fail(f"attribute {tag_of(qn)}={value!r} is not a valid {p.payload.name}", state)
                self.w.write(i - state.least_at, state.w_at)
                STRING.write(self.w, value)
                return p.next  # type: ignore[return-value]
            self.w.write(i, state.w1)
            p.payload.write(self.w, v)
            return p.next  # type: ignore[return-value]
        if state.at_any is not None:
            p = state.prods[state.at_any]
            self.w.write(state.at_any, state.w1)
            self.tables.write_qname(self.w, qn)
            STRING.write(self.w, value)
            return p.next  # type: ignore[return-value]
        if self.code2(state, X_AT_ANY):
            self.tables.write_qname(self.w, qn)
            STRING.write(self.w, value)
            return state
        raise self.fail(f"attribute {tag_of(qn)} not allowed here", state)

    def characters(self, state: State, text: str, simple_data: bool) -> State:
        """Encode character data the way EXIficient flushes it.

        In a state whose first production is a typed CH, the datatype's whiteSpace facet is
        applied first (and an empty result is no event at all); elsewhere whitespace-only
        text is dropped unless it is the whole content of an element.
        """
        if not isinstance(text, str):
            raise self.fail(f"character data is a {type(text).__name__}, not text", state)
        ws = state.text_ws
        if ws is not None:
            if ws != PRESERVE:
                text = apply_whitespace(text, ws)
                if not text:
                    return state
        elif not simple_data and not text.strip(" \t\n\r"):
            return state
        if state.ch is not None:
            p = state.prods[state.ch]
            v = p.payload.parse(text)
            if v is not None:
                self.w.write(state.ch, state.w1)
                p.payload.write(self.w, v)
                return p.next  # type: ignore[return-value]
        elif state.ch_any is not None:
            p = state.prods[state.ch_any]
            self.w.write(state.ch_any, state.w1)
            STRING.write(self.w, text)
            return p.next  # type: ignore[return-value]
        if self.code2(state, X_CH):
            STRING.write(self.w, text)
            return _after_content_event(state)
        raise self.fail(f"character data {text[:20]!r} not allowed here", state)

    def end_element(self, state: State) -> None:
        if state.ee is not None:
            self.w.write(state.ee, state.w1)
            return
        # An element without its (simple) content ends with the undeclared EE, as EXIficient
        # does; it never writes an empty CH.
        if not self.code2(state, X_EE):
            raise self.fail("element ends too early", state)

    def _type_qname(self, value: str, elem: ET.Element) -> QName:
        """xsi:type values in a tree are Clark notation ({uri}local); anything else is taken
        as a name without namespace, as EXIficient takes a QName whose prefix is unbound."""
        v = value.strip()
        if v.startswith("{"):
            return qname_of(v)
        return ("", v)



def _single_attribute(state: State, attrib: dict[str, str]) -> tuple[int, int, State] | None:
    """An element's one declared attribute with a valid value (Id, Algorithm, URI, ...) in
    ``state``: its code and value as (bits, width, the state after it), written in one go;
    None when the attribute needs the general path (``start_tag``)."""
    for a_tag, a_value in attrib.items():
        j = state.at_tag.get(a_tag)
        if j is not None and isinstance(a_value, str):
            p = state.prods[j]
            v = p.payload.parse(a_value)
            if v is not None:
                bits, n = p.payload.encoding(v)
                return (j << n) | bits, state.w1 + n, p.next  # type: ignore[return-value]
    return None


def _child_entry(g: Grammars, state: State, tag: object) -> tuple[Any, ...]:
    """What the encoder needs to write a child ``tag`` declared in ``state``, from the grammar
    alone: for an element of simple type (True, SE and CH codes as one int, their width, the
    datatype, the EE code, its width, the parent's next state); for any other declared
    element (False, the SE code, its width, the child's start state, the parent's next
    state); (None,) when ``state`` does not declare ``tag``."""
    i = state.se_tag.get(tag) if isinstance(tag, str) else None
    if i is None:
        return (None,)
    p = state.prods[i]
    st = p.start or g.start_of(p)
    if st.simple is None:
        return (False, i, state.w1, st, p.next)
    ch, dt, after = st.simple
    return (True, (i << st.w1) | ch, state.w1 + st.w1, dt, after.ee, after.w1, p.next)


def encode_body(roots: list[ET.Element], g: Grammars, fragment: bool) -> bytes:
    enc = _Encoder(g)
    enc.w.write(HEADER_BYTE, 8)
    state = g.fragment if fragment else g.document
    if not fragment and len(roots) != 1:
        raise ExiError("a document has exactly one root element", 8, "one root element")
    for root in roots:
        state = enc.element(root, state, 0)
    # state is DocEnd (document) or FragmentContent (fragment): both end with ED
    for i, p in enumerate(state.prods):
        if p.kind == ED:
            enc.w.write(i, state.w1)
            break
    return enc.w.getvalue()
