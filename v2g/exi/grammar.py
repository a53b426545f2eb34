"""Schema-informed EXI 1.0 grammars, built from a resolved :class:`~v2g.exi.model.Schema`.

Invariants (what every state of the tables below satisfies):

* A :class:`State` holds its first-level productions in event-code order; the event code of
  a production is its index. The order follows EXI 1.0 section 8.5.4.3 as EXIficient applies
  it: AT(qname) sorted by local name then URI, AT(*), SE(qname) in schema order (members of a
  substitution group, head included, sorted by qname at the head's place), SE(*), EE,
  CH (typed), CH (untyped, mixed content), ED.
* Options are the defaults, not strict: every element state also has second-level
  productions (section 8.5.4.4.1): EE when not declared, xsi:type, xsi:nil, AT(*),
  AT(*) with an invalid value, SE(*), CH. Their lists per kind of state are SECOND_LEVEL.
  Because a second level always exists, a first-level code takes
  ceil(log2(first-level count + 1)) bits.
* No comments, PIs, DTDs, prefixes or self-contained elements are preserved, so those
  events never appear.
* The grammars are built once per schema set (``grammars_for`` caches them) and are
  read-only afterwards, apart from memos computed from the grammar alone (a production's
  start state, ``State.children``), the same whichever stream fills them first;
  per-stream state (string tables) lives in the codec.

Content models become automata by a Thompson construction with bounded repetitions unrolled
(so ``a{1,4}`` has distinct states after the 1st..4th ``a``, as EXI requires) followed by a
subset construction; productions of one DFA state are ordered by the position of their term
in the content model.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from v2g.errors import SchemaError
from v2g.exi.bits import coding_length
from v2g.exi.datatypes import BOOLEAN, STRING, Datatype, datatype_for
from v2g.exi.model import (
    BUILTIN_TYPES,
    XML_NS,
    XS_LOCAL_NAMES,
    XS_NS,
    XSI_NS,
    AttributeDecl,
    ComplexType,
    ElementDecl,
    Group,
    Particle,
    Schema,
    SimpleType,
    TypeDef,
    Wildcard,
)

QName = tuple[str, str]  # (namespace URI, local name)

# production kinds
SE, SE_ANY, AT, AT_ANY, EE, CH, CH_ANY, ED = range(8)
KIND_NAMES = ["SE", "SE(*)", "AT", "AT(*)", "EE", "CH", "CH(untyped)", "ED"]
_SORT_ORDER = {AT: 0, AT_ANY: 1, SE: 2, SE_ANY: 3, EE: 4, CH: 5, CH_ANY: 6, ED: 7}

# kinds of states
FIRST_START_TAG, START_TAG, ELEMENT, DOC_CONTENT, FRAGMENT_CONTENT, DOC_END, BUILTIN_START, \
    BUILTIN_ELEMENT = range(8)

# second-level (undeclared) events
X_EE, X_XSI_TYPE, X_XSI_NIL, X_AT_ANY, X_AT_INVALID, X_SE_ANY, X_CH = range(7)
SECOND_NAMES = ["EE", "AT(xsi:type)", "AT(xsi:nil)", "AT(*)", "AT(*) [invalid value]", "SE(*)",
                "CH [untyped]"]

SECOND_LEVEL: dict[int, tuple[int, ...]] = {
    FIRST_START_TAG: (X_XSI_TYPE, X_XSI_NIL, X_AT_ANY, X_AT_INVALID, X_SE_ANY, X_CH),
    START_TAG: (X_AT_ANY, X_AT_INVALID, X_SE_ANY, X_CH),
    ELEMENT: (X_SE_ANY, X_CH),
    BUILTIN_START: (X_EE, X_AT_ANY, X_SE_ANY, X_CH),
    BUILTIN_ELEMENT: (X_SE_ANY, X_CH),
}


class RelaxedElement:
    """Payload of SE(qname) for a qname declared with different types: the fragment uses the
    relaxed Element Fragment grammar (EXI 1.0 section 8.5.3)."""


RELAXED = RelaxedElement()

ElementPayload = ElementDecl | RelaxedElement


class Production:
    __slots__ = ("kind", "next", "payload", "qname", "start", "tag")

    def __init__(self, kind: int, qname: QName | None, payload: Any, next_: State | None) -> None:
        self.kind = kind
        self.qname = qname
        # the element tree's tag (Clark notation), made once instead of per decoded event
        self.tag = None if qname is None else (f"{{{qname[0]}}}{qname[1]}" if qname[0] else qname[1])
        self.payload = payload  # ElementDecl / RELAXED for SE, Datatype for AT and CH
        self.next = next_
        self.start: State | None = None  # element grammar of SE, filled on first use

    def describe(self) -> str:
        if self.qname is not None:
            return f"{KIND_NAMES[self.kind]}({{{self.qname[0]}}}{self.qname[1]})"
        return KIND_NAMES[self.kind]


class State:
    __slots__ = (
        "at",
        "at_any",
        "at_tag",
        "by_code",
        "ch",
        "ch_any",
        "content2",
        "done",
        "ee",
        "fast_w",
        "kind",
        "label",
        "least_at",
        "mask",
        "n_at",
        "prods",
        "se",
        "se_any",
        "se_tag",
        "shift",
        "simple",
        "text_ws",
        "second",
        "children",
        "type_empty",
        "w1",
        "w2",
        "w_at",
    )

    def __init__(self, kind: int, label: str, content2: State | None = None) -> None:
        self.kind = kind
        self.prods: list[Production] = []
        self.content2 = content2
        self.label = label
        self.done = False
        self.type_empty: State | None = None
        # memo of the encoder (codec._child_entry): what to write for a child, by Clark tag,
        # filled on first use from this grammar alone
        self.children: dict[object, Any] = {}

    def add(self, p: Production) -> None:
        if p.kind in (EE, SE_ANY, AT_ANY, CH_ANY, ED) and any(q.kind == p.kind for q in self.prods):
            return
        self.prods.append(p)

    def finish(self) -> None:
        """Order the productions and compute the lookup tables; idempotent."""
        if self.done:
            return
        self.prods.sort(key=lambda p: (_SORT_ORDER[p.kind],
                                       (p.qname[1], p.qname[0]) if p.kind == AT and p.qname else ("", "")))
        second = SECOND_LEVEL.get(self.kind, ())
        self.ee = next((i for i, p in enumerate(self.prods) if p.kind == EE), None)
        if self.kind in (FIRST_START_TAG, START_TAG, ELEMENT) and self.ee is None:
            second = (X_EE, *second)
        self.second = second
        self.w1 = coding_length(len(self.prods) + (1 if second else 0))
        self.w2 = coding_length(len(second))
        # For the decoder: the first-level production of each code that fits w1 bits (None
        # for the second-level escape and for codes no production has), and how to take a
        # code of up to 9 bits from a two-byte window: (window >> (shift - bit offset in the
        # byte)) & mask. fast_w is w1, or a width no stream has for codes of more than 9 bits
        # (read by BitReader.read instead).
        self.by_code = (*self.prods, *[None] * ((1 << self.w1) - len(self.prods)))
        self.shift = 16 - self.w1
        self.mask = (1 << self.w1) - 1
        self.fast_w = self.w1 if self.w1 <= 9 else 1 << 62
        self.se = {p.qname: i for i, p in enumerate(self.prods) if p.kind == SE}
        self.se_tag = {p.tag: i for i, p in enumerate(self.prods) if p.kind == SE}  # by Clark tag
        self.at = {p.qname: i for i, p in enumerate(self.prods) if p.kind == AT}
        # declared attributes by Clark tag (the learned xsi:type of a built-in grammar has no
        # datatype and is left out)
        self.at_tag = {p.tag: i for i, p in enumerate(self.prods) if p.kind == AT and p.payload is not None}
        self.ch = next((i for i, p in enumerate(self.prods) if p.kind == CH), None)
        self.ch_any = next((i for i, p in enumerate(self.prods) if p.kind == CH_ANY), None)
        self.se_any = next((i for i, p in enumerate(self.prods) if p.kind == SE_ANY), None)
        self.at_any = next((i for i, p in enumerate(self.prods) if p.kind == AT_ANY), None)
        # AT(*) [invalid value] names a declared attribute by its rank among the AT(qname)
        # productions, in coding_length(count + 1) bits (the extra value means AT(*)).
        self.n_at = len(self.at)
        self.least_at = next((i for i, p in enumerate(self.prods) if p.kind == AT), 0)
        self.w_at = coding_length(self.n_at + 1)
        # The whiteSpace facet applied to character data before encoding it: that of the
        # datatype when the first production is a typed CH of a schema-informed element state
        # (EXIficient's flush rule, see the codec), else None.
        first = self.prods[0] if self.prods else None
        typed = first is not None and first.kind == CH and self.kind in (FIRST_START_TAG, START_TAG, ELEMENT)
        self.text_ws = first.payload.whitespace if typed else None  # type: ignore[union-attr]
        # The start tag of an element of simple type without attributes: its only first-level
        # production is the typed CH (so code 0 in one bit, as a second level exists), whose
        # next state's first-level EE is code 0 in one bit too. The codec reads and writes
        # such elements (SE, CH, value, EE) in one step: (CH's event code, its datatype, the
        # state after it).
        self.simple: tuple[int, Datatype, State] | None = None
        if self.kind == FIRST_START_TAG and len(self.prods) == 1 and first.kind == CH:  # type: ignore[union-attr]
            after = first.next  # type: ignore[union-attr]
            if after is not None and after.done and after.ee == 0 and after.w1 == 1 and self.w1 == 1:
                self.simple = (0, first.payload, after)  # type: ignore[union-attr]
        self.done = True

    def second_code(self, event: int) -> int | None:
        try:
            return self.second.index(event)
        except ValueError:
            return None

    def expected(self) -> str:
        names = [p.describe() for p in self.prods]
        names += [SECOND_NAMES[e] for e in self.second]
        return " | ".join(names) or "nothing"

    def __repr__(self) -> str:
        return f"<State {self.label} [{', '.join(p.describe() for p in self.prods)}]>"


def copy_state(src: State, kind: int, label: str, content2: State | None,
               redirect_self: bool = False) -> State:
    """A copy of ``src``'s productions; with ``redirect_self`` a loop on ``src`` becomes a loop
    on the copy (EXIficient does this for the first start tag only)."""
    s = State(kind, label, content2)
    for p in src.prods:
        nxt = s if (redirect_self and p.next is src) else p.next
        s.add(Production(p.kind, p.qname, p.payload, nxt))
    return s


# ----------------------------------------------------------------------------- content models


class _Nfa:
    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.edges: list[list[tuple[object, int]]] = []

    def node(self) -> int:
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1


def _leaf_order(p: Particle, order: dict[int, int], terms: dict[int, object]) -> None:
    t = p.term
    if isinstance(t, Group):
        for q in t.particles:
            _leaf_order(q, order, terms)
    elif id(t) not in order:
        order[id(t)] = len(order)
        terms[id(t)] = t


def _build(nfa: _Nfa, p: Particle) -> tuple[int, int]:
    """Thompson fragment for a particle, with bounded repetitions unrolled."""
    start = nfa.node()
    cur = start
    for _ in range(p.min):
        s, e = _build_term(nfa, p.term)
        nfa.eps[cur].append(s)
        cur = e
    end = nfa.node()
    if p.max is None:
        s, e = _build_term(nfa, p.term)
        nfa.eps[cur].append(s)
        nfa.eps[e].append(cur)
        nfa.eps[cur].append(end)
    else:
        optional_ends = [cur]
        for _ in range(p.max - p.min):
            s, e = _build_term(nfa, p.term)
            nfa.eps[cur].append(s)
            cur = e
            optional_ends.append(cur)
        for o in optional_ends:
            nfa.eps[o].append(end)
    return start, end


def _build_term(nfa: _Nfa, t: object) -> tuple[int, int]:
    if isinstance(t, Group):
        start = nfa.node()
        end = nfa.node()
        if t.kind == "sequence":
            cur = start
            for q in t.particles:
                s, e = _build(nfa, q)
                nfa.eps[cur].append(s)
                cur = e
            nfa.eps[cur].append(end)
        else:
            for q in t.particles:
                s, e = _build(nfa, q)
                nfa.eps[start].append(s)
                nfa.eps[e].append(end)
        return start, end
    s = nfa.node()
    e = nfa.node()
    nfa.edges[s].append((t, e))
    return s, e


# ----------------------------------------------------------------------------- grammars


class Grammars:
    """All grammars of one schema set: document, fragment, element and type grammars,
    plus the string tables the schema pre-populates."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._type_start: dict[int, State] = {}
        self._elem_start: dict[int, State] = {}
        self.named_types: dict[QName, TypeDef] = {}
        for t in schema.named_types():
            assert t.name is not None
            self.named_types[(t.ns, t.name)] = t
        self.global_elements = schema.elements
        self.uris, self.local_names = self._string_tables()
        self._members = self._substitution_members()
        self.relaxed_start, self.relaxed_empty = self._relaxed_fragment_grammar()
        self.document = self._document_grammar()
        self.any_type = self._any_type_grammar()
        self.fragment = self._fragment_grammar()

    # -- string tables (EXI 1.0 section 7.3.1, schema pre-population)

    def _string_tables(self) -> tuple[list[str], dict[str, list[str]]]:
        names: dict[str, set[str]] = {}

        def add(ns: str, local: str) -> None:
            names.setdefault(ns, set()).add(local)

        for decl in self.schema.all_elements:
            add(decl.ns, decl.name)
        for a in self.schema.attributes:
            add(a.ns, a.name)
        for (ns, local) in self.named_types:
            add(ns, local)
        fixed = ["", XML_NS, XSI_NS, XS_NS]
        others = sorted(ns for ns in names if ns not in fixed)
        uris = fixed + others
        tables = {
            "": sorted(names.get("", set())),
            XML_NS: ["base", "id", "lang", "space"],
            XSI_NS: ["nil", "type"],
            XS_NS: sorted(set(XS_LOCAL_NAMES) | names.get(XS_NS, set())),
        }
        for ns in others:
            tables[ns] = sorted(names[ns])
        return uris, tables

    def _substitution_members(self) -> dict[int, list[ElementDecl]]:
        members: dict[int, list[ElementDecl]] = {}
        for decl in self.schema.elements.values():
            head = decl.substitution_head
            while head is not None:
                members.setdefault(id(head), []).append(decl)
                head = head.substitution_head
        return members

    def element_choices(self, decl: ElementDecl) -> list[ElementDecl]:
        """The element itself and its substitution-group members, sorted by local name, URI."""
        items = [decl, *self._members.get(id(decl), [])]
        return sorted(items, key=lambda d: (d.name, d.ns))

    # -- element and type grammars

    def start_of(self, prod: Production) -> State:
        st = prod.start
        if st is None:
            payload = prod.payload
            st = self.relaxed_start if payload is RELAXED else self.element_start(payload)
            prod.start = st
        return st

    def element_start(self, decl: ElementDecl) -> State:
        st = self._elem_start.get(id(decl))
        if st is None:
            st = self.type_start(decl.type)
            self._elem_start[id(decl)] = st
        return st

    def type_start(self, t: TypeDef) -> State:
        st = self._type_start.get(id(t))
        if st is not None:
            return st
        if isinstance(t, SimpleType):
            st = self._simple_type_grammar(t)
        else:
            st = self._complex_type_grammar(t)
        self._type_start[id(t)] = st
        return st

    def type_empty(self, st: State) -> State:
        """TypeEmpty: the attribute part of a start-tag state, then EE (used after xsi:nil)."""
        if st.type_empty is None:
            empty = State(st.kind, st.label + "/empty")
            st.type_empty = empty
            has_other = False
            for p in st.prods:
                if p.kind in (AT, AT_ANY):
                    nxt = empty if p.next is st else (self.type_empty(p.next) if p.next else None)
                    empty.add(Production(p.kind, p.qname, p.payload, nxt))
                else:
                    has_other = True
            if has_other or not empty.prods:
                empty.add(Production(EE, None, None, None))
            empty.content2 = _end_state()
            empty.finish()
        return st.type_empty

    def _simple_type_grammar(self, t: SimpleType) -> State:
        dt = datatype_for(t)
        label = t.name or "anonymous simple type"
        end = _end_state()
        content = State(ELEMENT, label + "/content")
        content.add(Production(CH, None, dt, end))
        content.finish()
        first = copy_state(content, FIRST_START_TAG, label, content)
        first.finish()
        return first

    def _complex_type_grammar(self, t: ComplexType) -> State:
        label = t.name or "anonymous complex type"
        if t.content == "empty":
            content = _end_state()
        elif t.content == "simple":
            assert t.simple is not None
            content = State(ELEMENT, label + "/content")
            content.add(Production(CH, None, datatype_for(t.simple), _end_state()))
            content.finish()
        else:
            if t.particle is None:
                raise SchemaError(f"type {label} has mixed content without particles")
            content = self._particle_grammar(t.particle, t.content == "mixed", label)
        # Attribute uses, sorted by qname; built from the last one backwards (8.5.4.1.3.1).
        rule = copy_state(content, START_TAG, label + "/attrs-end", content)
        uses = sorted(t.attributes, key=lambda u: (u.decl.name, u.decl.ns))
        for i in range(len(uses) - 1, -1, -1):
            u = uses[i]
            new = State(START_TAG, f"{label}/attr{i}", content)
            new.add(Production(AT, u.decl.qname, datatype_for(u.decl.type), rule))
            if not u.required:
                for p in rule.prods:
                    if p.kind != AT_ANY:
                        new.add(Production(p.kind, p.qname, p.payload, p.next))
            rule.finish()
            rule = new
        rule.finish()
        first = copy_state(rule, FIRST_START_TAG, label, content, redirect_self=True)
        first.finish()
        return first

    def _particle_grammar(self, particle: Particle, mixed: bool, label: str) -> State:
        nfa = _Nfa()
        s, e = _build(nfa, particle)
        order: dict[int, int] = {}
        terms: dict[int, object] = {}
        _leaf_order(particle, order, terms)
        accept = e

        def closure(nodes: set[int]) -> frozenset[int]:
            stack = list(nodes)
            seen = set(nodes)
            while stack:
                n = stack.pop()
                for m in nfa.eps[n]:
                    if m not in seen:
                        seen.add(m)
                        stack.append(m)
            return frozenset(n for n in seen if nfa.edges[n] or n == accept)

        states: dict[frozenset[int], State] = {}
        pending: list[frozenset[int]] = []

        def state_for(key: frozenset[int]) -> State:
            st = states.get(key)
            if st is None:
                st = State(ELEMENT, f"{label}/{len(states)}")
                states[key] = st
                pending.append(key)
            return st

        start_key = closure({s})
        start = state_for(start_key)
        while pending:
            key = pending.pop()
            st = states[key]
            moves: dict[int, set[int]] = {}
            for n in key:
                for term, target in nfa.edges[n]:
                    moves.setdefault(id(term), set()).add(target)
            for tid in sorted(moves, key=lambda k: order[k]):
                nxt = state_for(closure(moves[tid]))
                term = terms[tid]
                if isinstance(term, Wildcard):
                    st.add(Production(SE_ANY, None, None, nxt))
                else:
                    assert isinstance(term, ElementDecl)
                    for d in self.element_choices(term):
                        if d.qname not in (p.qname for p in st.prods if p.kind == SE):
                            st.add(Production(SE, d.qname, d, nxt))
            if accept in key:
                st.add(Production(EE, None, None, None))
            if mixed:
                st.add(Production(CH_ANY, None, STRING, st))
        for st in states.values():
            st.finish()
        return start

    # -- relaxed element fragment grammar (8.5.3)

    def _fragment_elements(self) -> list[tuple[QName, ElementPayload]]:
        by_qname: dict[QName, list[ElementDecl]] = {}
        for d in self.schema.all_elements:
            by_qname.setdefault(d.qname, []).append(d)
        out: list[tuple[QName, ElementPayload]] = []
        for qn in sorted(by_qname, key=lambda q: (q[1], q[0])):
            decls = by_qname[qn]
            first = decls[0]
            same = all(d.type is first.type and d.type.name is not None and d.nillable == first.nillable
                       for d in decls) or len(decls) == 1
            out.append((qn, first if same else RELAXED))
        return out

    def _relaxed_fragment_grammar(self) -> tuple[State, State]:
        attrs: dict[QName, list[AttributeDecl]] = {}
        for a in self.schema.attributes:
            attrs.setdefault(a.qname, []).append(a)
        elems = self._fragment_elements()
        frag1 = State(ELEMENT, "ElementFragment1")
        frag0 = State(FIRST_START_TAG, "ElementFragment0", frag1)
        empty0 = State(FIRST_START_TAG, "ElementFragmentTypeEmpty0", _end_state())
        for qn in sorted(attrs, key=lambda q: (q[1], q[0])):
            decls = attrs[qn]
            same = all(d.type is decls[0].type for d in decls)
            dt: Datatype = datatype_for(decls[0].type) if same else STRING
            frag0.add(Production(AT, qn, dt, frag0))
            empty0.add(Production(AT, qn, dt, empty0))
        for qn, payload in elems:
            frag1.add(Production(SE, qn, payload, frag1))
            frag0.add(Production(SE, qn, payload, frag1))
        for st, nxt in ((frag1, frag1), (frag0, frag1)):
            st.add(Production(SE_ANY, None, None, nxt))
            st.add(Production(EE, None, None, None))
            st.add(Production(CH_ANY, None, STRING, nxt))
        frag0.add(Production(AT_ANY, None, None, frag0))
        empty0.add(Production(AT_ANY, None, None, empty0))
        empty0.add(Production(EE, None, None, None))
        for st in (frag0, frag1, empty0):
            st.finish()
        frag0.type_empty = empty0
        return frag0, empty0

    # -- document and fragment grammars (8.5.1, 8.5.2)

    def _document_grammar(self) -> State:
        doc_end = State(DOC_END, "DocEnd")
        doc_end.add(Production(ED, None, None, None))
        doc_end.finish()
        content = State(DOC_CONTENT, "DocContent")
        for decl in sorted(self.global_elements.values(), key=lambda d: (d.name, d.ns)):
            content.add(Production(SE, decl.qname, decl, doc_end))
        content.add(Production(SE_ANY, None, None, doc_end))
        content.finish()
        return content

    def _fragment_grammar(self) -> State:
        content = State(FRAGMENT_CONTENT, "FragmentContent")
        for qn, payload in self._fragment_elements():
            content.add(Production(SE, qn, payload, content))
        content.add(Production(SE_ANY, None, None, content))
        content.add(Production(ED, None, None, None))
        content.finish()
        return content

    # -- undeclared elements

    def type_start_by_qname(self, qn: QName) -> State | None:
        """Grammar of a named type (schema or XML Schema built-in), for xsi:type; None if unknown."""
        t = self.named_types.get(qn)
        if t is not None:
            return self.type_start(t)
        if qn[0] != XS_NS:
            return None
        if qn[1] == "anyType":
            return self.any_type
        builtin = BUILTIN_TYPES.get(qn[1])
        if builtin is None:
            return None
        try:
            return self.type_start(builtin)
        except SchemaError:
            return None  # a built-in type without EXI support here (float, dateTime, ...)

    def _any_type_grammar(self) -> State:
        """xs:anyType: mixed content of any elements, any attributes (EXI 1.0 section 8.5.4.1.3)."""
        content = State(ELEMENT, "anyType/content")
        content.add(Production(SE_ANY, None, None, content))
        content.add(Production(EE, None, None, None))
        content.add(Production(CH_ANY, None, STRING, content))
        content.finish()
        first = State(FIRST_START_TAG, "anyType", content)
        first.add(Production(AT_ANY, None, None, first))
        first.add(Production(SE_ANY, None, None, content))
        first.add(Production(EE, None, None, None))
        first.add(Production(CH_ANY, None, STRING, content))
        first.finish()
        return first

    def global_start(self, qn: QName) -> State | None:
        decl = self.global_elements.get(qn)
        return self.element_start(decl) if decl is not None else None

    def attribute_datatype(self, qn: QName) -> Datatype:
        if qn == (XSI_NS, "nil"):
            return BOOLEAN
        return STRING

    def warm(self) -> None:
        """Build every element grammar now (grammars are otherwise built on first use)."""
        for d in self.schema.all_elements:
            self.element_start(d)
        for t in self.named_types.values():
            self.type_start(t)


_END: list[State] = []


def _end_state() -> State:
    """A state whose only production is EE (shared: it is never modified)."""
    if not _END:
        st = State(ELEMENT, "end")
        st.add(Production(EE, None, None, None))
        st.finish()
        _END.append(st)
    return _END[0]


def builtin_states() -> tuple[State, State, State]:
    """Built-in element grammars as EXIficient uses them with maximumNumberOfBuiltIn* = 0.

    An undeclared element (no global declaration) starts in a fresh built-in start tag with no
    first-level production. EXIficient then casts it with AT(*) xsi:type (see codec), and that
    one attribute is learned: the next element of the same qname in the stream starts in a
    start tag whose single first-level production is AT(xsi:type).
    """
    element = State(BUILTIN_ELEMENT, "BuiltInElement")
    element.add(Production(EE, None, None, None))
    element.finish()
    start = State(BUILTIN_START, "BuiltInStartTag", element)
    start.finish()
    learned = State(BUILTIN_START, "BuiltInStartTag+xsi:type", element)
    learned.add(Production(AT, (XSI_NS, "type"), None, learned))
    learned.finish()
    return start, learned, element


BUILTIN_START_STATE, BUILTIN_START_LEARNED, BUILTIN_ELEMENT_STATE = builtin_states()


@cache
def grammars_for(schema_name: str) -> Grammars:
    from v2g.exi.schemas import load_schema

    g = Grammars(load_schema(schema_name))
    g.warm()
    return g
