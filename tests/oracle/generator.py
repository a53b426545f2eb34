"""Seeded generator of valid ISO 15118-2 and -20 XML messages, driven by the XSDs.

The XSDs come from inside the EXIficient jar (-2) and the iso15118 wheel (-20) and are
read with ``xmlschema``,
so the generator shares nothing with the codec's own schema description: a
mistake in that description shows up as a differing bit, not as a blind spot.

Every decision the generator makes is a *decision point* with a finite set of
options; together they form the coverage universe:

- ``element``: which member of a substitution group (AC/DC variants, and at the
  top the message type: every BodyElement member, plus an empty Body);
- ``occurs``: particle repetition bucket (``absent``/``present`` for optional
  particles, ``min``/``mid``/``max`` within the bounds, ``min+1``/``several``
  when unbounded);
- ``choice``: which branch of a choice;
- ``attribute``: optional attribute present or absent;
- ``wildcard``: a declared global element or an undeclared (foreign) one;
- ``mixed``: text around children in mixed content, or none;
- ``value``: enumeration literal, or a value bucket of a simple type (range
  ends, lengths, lexical variants, non-ASCII text, XML escapes).

The same walk runs in two modes: ``Universe`` visits every branch once to list
all decision points reachable from the root; ``Generator`` follows one branch
per decision, preferring the least-hit option (so coverage is complete after a
few hundred messages) while still mixing in random picks (so options combine
in many ways). Both call :func:`_decision_options`, so they cannot disagree on
what a decision is.

A few large repetitions (``max`` of maxOccurs=1024) are allowed once per
message, to keep messages small enough for fast differential runs.

Names of messages that contain an undeclared wildcard element end in
``+undeclared``: EXIficient encodes those with the EXI Profile's anyType rule
(``xsi:type`` inserted), which a codec may reasonably not support; tests keep
them apart.
"""

from __future__ import annotations

import base64
import random
from collections import Counter
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import xmlschema
from xmlschema.validators import (
    XsdAnyElement,
    XsdAtomicBuiltin,
    XsdAttribute,
    XsdComplexType,
    XsdElement,
    XsdGroup,
)

from . import tooling

XS = "{http://www.w3.org/2001/XMLSchema}"
BODY_ELEMENT = "{urn:iso:15118:2:2013:MsgBody}BodyElement"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
FOREIGN_NS = "urn:opcp:test:undeclared"
ISO2_ROOT = "{urn:iso:15118:2:2013:MsgDef}V2G_Message"
# ISO 15118-20 schema sets whose documents are the messages of one namespace.
ISO20_MESSAGE_NS = {f"iso20-{n.lower()}": f"urn:iso:std:iso:15118:-20:{n}"
                    for n in ("CommonMessages", "DC", "AC", "ACDP", "WPT")}
ISO20_MESSAGE_NS["iso20-common"] = ISO20_MESSAGE_NS.pop("iso20-commonmessages")
BIG = 16  # maxOccurs above this counts as a "large" repetition
UNBOUNDED_SEVERAL = 4
UNDECLARED_SHARE = 0.25  # of messages that may hold undeclared wildcard content
EDGE_SHARE = 0.35  # of messages that may hold empty, blank or padded values
MAX_WILDCARD_DEPTH = 1  # a declared element inside a wildcard inside ... stops here

# Signed elements (digested as EXI fragments) are those whose type has an Id
# attribute; SignedInfo is the xmldsig fragment.
XMLDSIG_FRAGMENT_ROOTS = ("{http://www.w3.org/2000/09/xmldsig#}SignedInfo",)

Key = tuple[str, ...]


def _decision_options(kind: str, *args: object) -> list[str]:
    """Options of one decision point; the single source for both walks."""
    if kind == "occurs":
        lo, hi = args
        assert isinstance(lo, int)
        if hi == 1 and lo == 0:
            return ["absent", "present"]
        if hi is None:
            return ["min", "min+1", "several"]
        assert isinstance(hi, int)
        if hi == lo:
            return []
        return ["min", "mid", "max"] if hi - lo >= 2 else ["min", "max"]
    raise AssertionError(kind)


# ---------------------------------------------------------------- simple values

_INT_RANGES = {
    "byte": (-(2**7), 2**7 - 1), "short": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1),
    "unsignedByte": (0, 2**8 - 1), "unsignedShort": (0, 2**16 - 1),
    "unsignedInt": (0, 2**32 - 1), "unsignedLong": (0, 2**64 - 1),
    "nonNegativeInteger": (0, None), "positiveInteger": (1, None),
    "integer": (None, None),
}
_TEXT_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:"
_UNICODE_SAMPLES = "äöüßé€✓漢字😀"  # 2-, 3- and 4-byte UTF-8, one astral code point
_ESCAPES = "<&>\"'"


def _builtin_name(t: object) -> str:
    """Nearest XSD built-in ancestor of a simple type (e.g. unsignedShort)."""
    cur = t
    while not isinstance(cur, XsdAtomicBuiltin):
        cur = cur.base_type  # type: ignore[attr-defined]
        if cur is None:
            raise NotImplementedError(f"simple type {t!r} has no atomic built-in base")
    return str(cur.local_name)


_BUILTIN_CACHE: dict[int, str] = {}


def _builtin_name_cached(t: object) -> str:
    name = _BUILTIN_CACHE.get(id(t))
    if name is None:
        name = _BUILTIN_CACHE[id(t)] = _builtin_name(t)
    return name


def _facet(t: object, name: str) -> object:
    """Facet value, inherited along the restriction chain."""
    cur = t
    while cur is not None and not isinstance(cur, XsdAtomicBuiltin):
        facet = cur.facets.get(XS + name)  # type: ignore[attr-defined]
        if facet is not None:
            return facet.value
        cur = cur.base_type  # type: ignore[attr-defined]
    return None


def _type_key(t: object) -> str:
    name = getattr(t, "name", None)
    return str(name) if name else f"anonymous:{id(t)}"


_VALUE_OPTIONS: dict[int, list[str]] = {}


def value_options(t: object) -> list[str]:
    """Value buckets of a simple type (enumeration literals count one each)."""
    cached = _VALUE_OPTIONS.get(id(t))
    if cached is None:
        cached = _VALUE_OPTIONS[id(t)] = _value_options(t)
    return cached


def _value_options(t: object) -> list[str]:
    enum = getattr(t, "enumeration", None)
    if enum:
        return [f"enum:{v}" for v in enum]
    if _facet(t, "pattern") is not None:  # none in the ISO 15118-2 XSDs; fail loudly if one appears
        raise NotImplementedError(f"pattern facets are not generated yet: {t!r}")
    base = _builtin_name(t)
    if base in _INT_RANGES or base == "decimal" and _facet(t, "fractionDigits") == 0:
        lo, hi = _int_range(t, base)
        opts = ["min" if lo is not None else "negative-huge", "max" if hi is not None else "huge", "mid"]
        if (lo is None or lo < 0) and (hi is None or hi > 0):
            opts.append("zero")
        opts.append("lexical")  # '+', leading zeros
        opts.append("padded")  # whitespace around: collapsed away by the type
        return opts
    if base == "boolean":
        return ["true", "false", "1", "0", "padded"]
    if base in ("ID", "NCName"):
        return ["typical"]
    lo, hi = _length_range(t)
    # "empty" (no characters at all) is its own bucket, rationed per message
    # (see Generator.value); "min-length" is then at least one character.
    empty = ["empty"] if lo == 0 else []
    if base in ("string", "anyURI", "normalizedString", "token"):
        opts = ["min-length", "max-length" if hi is not None else "long", "typical"]
        if base == "string":
            opts += ["unicode", "escapes"]
            # xs:string preserves whitespace: spaces at the edges are data, and
            # an all-whitespace value is not "no characters".
            opts += ["padded"] if hi is None or hi >= 3 else []
            opts += ["blank"]
        else:
            opts += ["padded"]
        return opts + empty
    if base == "base64Binary":
        opts = ["min-length", "max-length" if hi is not None else "long", "typical"]
        if hi is None or hi > 57:
            opts.append("wrapped")  # line breaks as in PEM: whitespace is legal
        return opts + ["padded"] + empty
    if base == "hexBinary":
        return ["min-length", "max-length", "typical", "lowercase", "padded"] + empty
    raise NotImplementedError(f"no value generator for built-in {base} ({t!r})")


_INT_RANGE_CACHE: dict[int, tuple[int | None, int | None]] = {}


def _int_range(t: object, base: str) -> tuple[int | None, int | None]:
    cached = _INT_RANGE_CACHE.get(id(t))
    if cached is None:
        cached = _INT_RANGE_CACHE[id(t)] = _int_range_uncached(t, base)
    return cached


def _int_range_uncached(t: object, base: str) -> tuple[int | None, int | None]:
    lo, hi = _INT_RANGES.get(base, (None, None))
    for name, pick in (("minInclusive", max), ("maxInclusive", min)):
        v = _facet(t, name)
        if v is not None:
            v = int(Decimal(str(v)))
            if name == "minInclusive":
                lo = v if lo is None else pick(lo, v)
            else:
                hi = v if hi is None else pick(hi, v)
    for name in ("minExclusive", "maxExclusive"):
        if _facet(t, name) is not None:
            raise NotImplementedError(f"{name} on {t!r}")
    return lo, hi


def _length_range(t: object) -> tuple[int, int | None]:
    exact = _facet(t, "length")
    if exact is not None:
        return int(str(exact)), int(str(exact))
    lo = _facet(t, "minLength")
    hi = _facet(t, "maxLength")
    return int(str(lo or 0)), (int(str(hi)) if hi is not None else None)


_WS = " \t\n"
# Buckets allowed only in some messages (Generator.value): corners of
# character handling that would otherwise sit in nearly every message.
EDGE_BUCKETS = frozenset({"empty", "blank", "padded"})


def make_value(t: object, bucket: str, rng: random.Random, ids: Iterator[str]) -> str:
    """Lexical value of simple type ``t`` in ``bucket``; XML-escaped by the caller."""
    if bucket.startswith("enum:"):
        return bucket[5:]
    base = _builtin_name_cached(t)
    if bucket == "padded":
        if base == "string":  # whitespace is data: keep the padded length in bounds
            lo, hi = _length_range(t)
            n = rng.randint(max(lo - 2, 1), max(lo - 2, 1, min(hi - 2 if hi is not None else 20, 20)))
            core = "".join(rng.choice(_TEXT_ALPHABET) for _ in range(n))
            return rng.choice(_WS) + core + rng.choice(_WS)
        core_bucket = {"boolean": rng.choice(["true", "0"])}.get(base, "min-length")
        if base in _INT_RANGES or base == "decimal":
            core_bucket = "mid"
        core = make_value(t, core_bucket, rng, ids)
        return rng.choice(_WS) + rng.choice(["", " "]) + core + rng.choice(_WS)
    if bucket == "blank":
        lo, hi = _length_range(t)
        n = rng.randint(max(lo, 1), max(lo, 1, min(hi if hi is not None else 3, 3)))
        return "".join(rng.choice(_WS) for _ in range(n))
    if base in ("ID", "NCName"):
        return next(ids)
    if base in _INT_RANGES or base == "decimal":
        ilo, ihi = _int_range(t, base)
        lo_eff = ilo if ilo is not None else -(2**70)
        hi_eff = ihi if ihi is not None else 2**70
        value = {
            "min": lo_eff, "max": hi_eff, "negative-huge": -(2**70) - rng.randrange(2**20),
            "huge": 2**70 + rng.randrange(2**20), "zero": 0,
        }.get(bucket)
        if value is None:
            span_lo, span_hi = max(lo_eff, -(10**6)), min(hi_eff, 10**6)
            value = rng.randint(span_lo, span_hi)
        if bucket == "lexical":
            return ("+" if value >= 0 else "-") + "00" + str(abs(value))
        return str(value)
    if base == "boolean":
        return bucket
    lo, hi = _length_range(t)
    if bucket == "empty":
        return ""
    if bucket == "min-length":
        n = max(lo, 1)
    elif bucket in ("max-length",):
        assert hi is not None
        n = hi
    elif bucket == "long":
        n = rng.randint(100, 300)
    elif bucket == "wrapped":  # long enough for at least one line break, within the length facets
        n = rng.randint(max(lo, 58), max(lo, min(hi if hi is not None else 300, 300)))
    else:
        n = rng.randint(lo, min(hi if hi is not None else lo + 40, lo + 40))
    if base in ("string", "anyURI", "normalizedString", "token"):
        if base == "anyURI":
            text = "urn:x:" + "".join(rng.choice(_TEXT_ALPHABET) for _ in range(max(n - 6, 0)))
            return text[:n] if n >= 6 else "".join(rng.choice("abcxyz") for _ in range(n))
        chars = _TEXT_ALPHABET + " "
        if bucket == "unicode":
            chars = _UNICODE_SAMPLES + _TEXT_ALPHABET
        elif bucket == "escapes":
            chars = _ESCAPES + _TEXT_ALPHABET
        out = [rng.choice(chars) for _ in range(n)]
        # xs:string keeps whitespace, but an all-space or space-edged value is
        # a separate question (whitespace handling) that these buckets avoid.
        for i in (0, n - 1):
            if n and out[i] == " ":
                out[i] = "x"
        if bucket == "unicode" and n:
            out[rng.randrange(n)] = rng.choice(_UNICODE_SAMPLES)
        if bucket == "escapes" and n:
            out[rng.randrange(n)] = rng.choice(_ESCAPES)
        return "".join(out)
    if base == "base64Binary":
        data = rng.randbytes(n)
        text = base64.b64encode(data).decode("ascii")
        if bucket == "wrapped":
            text = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
        return text
    if base == "hexBinary":
        text = rng.randbytes(n).hex()
        return text if bucket == "lowercase" else text.upper()
    raise NotImplementedError(base)


# ---------------------------------------------------------------- coverage


@dataclass
class Coverage:
    """Hit counts per (decision point, option); ``universe`` is everything reachable."""

    universe: dict[Key, list[str]] = field(default_factory=dict)
    hits: Counter[tuple[Key, str]] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)

    def missing(self) -> list[tuple[Key, str]]:
        return [(k, o) for k, opts in self.universe.items() for o in opts if not self.hits[(k, o)]]

    def unknown(self) -> list[tuple[Key, str]]:
        """Hits outside the universe: the two walks disagree (a generator bug)."""
        return [(k, o) for (k, o) in self.hits
                if k not in self.universe or o not in self.universe[k]]

    def report(self) -> dict[str, object]:
        by_kind: dict[str, list[int]] = {}
        for k, opts in self.universe.items():
            stats = by_kind.setdefault(k[0], [0, 0])
            stats[0] += sum(1 for o in opts if self.hits[(k, o)])
            stats[1] += len(opts)
        return {
            "messages": sum(self.messages.values()),
            "message_types": dict(sorted(self.messages.items())),
            "options_hit": {kind: f"{hit}/{total}" for kind, (hit, total) in sorted(by_kind.items())},
            "missing": [f"{'/'.join(k)} = {o}" for k, o in self.missing()],
        }


# ---------------------------------------------------------------- the walk


class _Walk:
    """Shared structure walk; subclasses decide how a decision is taken."""

    def __init__(self, schema: xmlschema.XMLSchema) -> None:
        self.schema = schema
        self.subst = schema.maps.substitution_groups
        self._wild_cache: dict[int, list[XsdElement]] = {}

    # -- structure helpers

    def concrete(self, elem: XsdElement) -> list[XsdElement]:
        """The head (if usable without xsi:type) and all substitution members."""
        head = elem.ref if elem.ref is not None else elem
        out: list[XsdElement] = []
        seen: set[str] = set()

        def add(e: XsdElement) -> None:
            if e.name in seen:
                return
            seen.add(e.name)
            abstract = e.abstract or (isinstance(e.type, XsdComplexType) and e.type.abstract)
            if not abstract:
                out.append(e)
            for member in sorted(self.subst.get(e.name, ()), key=lambda m: m.name):
                add(member)

        add(head)
        if not out:
            raise NotImplementedError(f"{elem.name}: abstract with no concrete member")
        return out

    def wildcard_candidates(self, wildcard: XsdAnyElement) -> list[XsdElement]:
        """Concrete global elements the wildcard admits; simple-content ones
        preferred (small), complex ones only when nothing simple fits."""
        cached = self._wild_cache.get(id(wildcard))
        if cached is not None:
            return cached
        simple: list[XsdElement] = []
        complex_: list[XsdElement] = []
        for name, e in sorted(self.schema.maps.elements.items()):
            if name.startswith(XS) or e.abstract:
                continue
            if not wildcard.is_matching(name, default_namespace=wildcard.target_namespace):
                continue
            t = e.type
            if isinstance(t, XsdComplexType) and t.abstract:
                continue
            if isinstance(t, XsdComplexType) and any(
                    a.use == "required" for a in t.attributes.values() if isinstance(a, XsdAttribute)):
                continue
            is_simple = not isinstance(t, XsdComplexType) or t.has_simple_content()
            (simple if is_simple else complex_).append(e)
        found = simple or complex_
        self._wild_cache[id(wildcard)] = found
        return found

    def wildcard_options(self, wildcard: XsdAnyElement) -> list[str]:
        """May be empty: a strict ##other wildcard in xmldsig alone admits
        nothing declared, and strict forbids undeclared content."""
        opts = []
        if self.wildcard_candidates(wildcard):
            opts.append("declared")
        if wildcard.process_contents != "strict" and wildcard.is_matching(
                f"{{{FOREIGN_NS}}}Ext", default_namespace=wildcard.target_namespace):
            opts.append("undeclared")
        if not opts and wildcard.min_occurs > 0:
            raise NotImplementedError(f"required wildcard {wildcard!r} admits nothing valid")
        return opts


class Universe(_Walk):
    """Every decision point reachable from the roots, visited once per type."""

    def __init__(self, schema: xmlschema.XMLSchema) -> None:
        super().__init__(schema)
        self.points: dict[Key, list[str]] = {}
        self._seen: set[str] = set()

    def add(self, key: Key, options: list[str]) -> None:
        if len(options) > 1 or key[0] in ("value", "element", "wildcard"):
            self.points[key] = options

    def element(self, elem: XsdElement, ctx: str) -> None:
        members = self.concrete(elem)
        self.add(("element", ctx, elem.name), [m.name for m in members])
        for m in members:
            self.type_of(m, f"{ctx}/{m.name}")

    def type_of(self, elem: XsdElement, path: str) -> None:
        t = elem.type
        key = _type_key(t) if getattr(t, "name", None) else path
        if key in self._seen:
            return
        self._seen.add(key)
        if not isinstance(t, XsdComplexType):
            self.add(("value", _type_key(t)), value_options(t))
            return
        for name, attr in t.attributes.items():
            if name is None or not isinstance(attr, XsdAttribute):
                raise NotImplementedError(f"attribute wildcard in {key}")
            if attr.use == "optional":
                self.add(("attribute", key, str(name)), ["absent", "present"])
            self.add(("value", _type_key(attr.type)), value_options(attr.type))
        if t.has_simple_content():
            self.add(("value", _type_key(t.content)), value_options(t.content))
        elif isinstance(t.content, XsdGroup):
            if t.mixed:
                self.add(("mixed", key), ["none", "text"])
            self.group(t.content, key, "0")

    def group(self, g: XsdGroup, ctx: str, pid: str) -> None:
        self.add(("occurs", ctx, pid), _decision_options("occurs", g.min_occurs, g.max_occurs))
        if g.model == "choice":
            self.add(("choice", ctx, pid), [str(i) for i in range(len(g))])
        elif g.model not in ("sequence", "all"):
            raise NotImplementedError(g.model)
        for i, p in enumerate(g):
            sub = f"{pid}.{i}"
            if isinstance(p, XsdGroup):
                self.group(p, ctx, sub)
            elif isinstance(p, XsdAnyElement):
                if not self.wildcard_options(p):
                    if g.model == "choice":
                        raise NotImplementedError(f"unfillable wildcard as a choice branch in {ctx}")
                    continue  # never generated: no decision to cover
                self.add(("occurs", ctx, sub), _decision_options("occurs", p.min_occurs, p.max_occurs))
                self.add(("wildcard", ctx, sub), self.wildcard_options(p))
                for e in self.wildcard_candidates(p):
                    self.type_of(e, e.name)
            else:
                self.add(("occurs", ctx, sub), _decision_options("occurs", p.min_occurs, p.max_occurs))
                self.element(p, ctx)


class Generator(_Walk):
    """Builds one XML text per call of :meth:`message`, recording coverage."""

    def __init__(self, schema: xmlschema.XMLSchema, seed: int, coverage: Coverage) -> None:
        super().__init__(schema)
        self.rng = random.Random(seed)
        self._gate = random.Random(seed * 7919 + 1)
        self.cov = coverage
        self._big_used = False
        self._undeclared = False
        self._wild_depth = 0
        self._id_counter = 0
        self._messages = 0
        self._shrink = 0
        self._allow_undeclared = False
        self._allow_edge = False
        self._ns: dict[str, str] = {}

    def _foreign_only(self, p: object) -> bool:
        """A wildcard that this message may not fill (only undeclared fits)."""
        return (isinstance(p, XsdAnyElement) and not self._allow_undeclared
                and self.wildcard_options(p) == ["undeclared"])

    def choose(self, key: Key, options: list[str], *, avoid: AbstractSet[str] = frozenset()) -> str:
        """A never-hit option if there is one; else the least-hit option 70 %
        of the time and a uniform pick otherwise; seeded."""
        allowed = [o for o in options if o not in avoid] or options
        fresh = [o for o in allowed if not self.cov.hits[(key, o)]]
        if fresh:
            allowed = fresh
        elif self.rng.random() < 0.7:
            low = min(self.cov.hits[(key, o)] for o in allowed)
            allowed = [o for o in allowed if self.cov.hits[(key, o)] == low]
        pick = self.rng.choice(allowed)
        self.cov.hits[(key, pick)] += 1
        return pick

    def _ids(self) -> Iterator[str]:
        while True:
            self._id_counter += 1
            yield f"ID{self._id_counter}"

    def qname(self, name: str) -> str:
        if not name.startswith("{"):
            return name  # unqualified local element/attribute (AppProtocol)
        ns, local = name[1:].split("}")
        prefix = self._ns.setdefault(ns, f"n{len(self._ns)}")
        return f"{prefix}:{local}"

    def message(self, root: XsdElement) -> tuple[str, str]:
        """(name, xml) of one message rooted at global element ``root``."""
        self._big_used = self._undeclared = False
        self._messages += 1
        # Undeclared (foreign) elements only in a share of the messages:
        # enough to cover them, few enough that most messages stay schema-pure.
        # (A separate RNG, not "every n-th message": a modulus aliases with the
        # round-robin of message types and starves some types of the feature.)
        self._allow_undeclared = self._gate.random() < UNDECLARED_SHARE
        # Empty, all-whitespace and whitespace-padded values likewise (EXIficient
        # encodes "no characters" with a second-level EE, and whitespace
        # handling depends on the type): corners that should not be in every message.
        self._allow_edge = self._gate.random() < EDGE_SHARE
        self._id_counter = 0
        self._ns = {}
        self._id_iter = self._ids()
        body = self.element(root, "root")
        decls = "".join(f" xmlns:{p}={quoteattr(ns)}" for ns, p in self._ns.items())
        # Namespace declarations go on the root start tag.
        end = body.index(">")
        if body[end - 1] == "/":
            end -= 1
        xml = body[:end] + decls + body[end:]
        name = self._message_name(root, xml)
        if self._undeclared:
            name += "+undeclared"
        return name, xml

    def _message_name(self, root: XsdElement, xml: str) -> str:
        return root.local_name

    def element(self, elem: XsdElement, ctx: str) -> str:
        members = self.concrete(elem)
        pick = self.choose(("element", ctx, elem.name), [m.name for m in members])
        chosen = next(m for m in members if m.name == pick)
        return self.instance(chosen, f"{ctx}/{chosen.name}")

    def instance(self, elem: XsdElement, path: str) -> str:
        t = elem.type
        tag = self.qname(elem.name)
        if not isinstance(t, XsdComplexType):
            return f"<{tag}>{escape(self.value(t))}</{tag}>"
        key = _type_key(t) if getattr(t, "name", None) else path
        attrs = []
        for name, attr in t.attributes.items():
            assert isinstance(attr, XsdAttribute)
            if attr.use == "optional" and self.choose(("attribute", key, str(name)), ["absent", "present"]) == "absent":
                continue
            if attr.use == "prohibited":
                continue
            attrs.append(f" {self.qname(str(name))}={quoteattr(self.value(attr.type))}")
        if t.has_simple_content():
            content = escape(self.value(t.content))
        elif isinstance(t.content, XsdGroup):
            content = self.group(t.content, key, "0")
            if t.mixed and self.choose(("mixed", key), ["none", "text"]) == "text":
                content = f"lead{self.rng.randrange(100)}{content}tail"
        else:
            content = ""
        return f"<{tag}{''.join(attrs)}>{content}</{tag}>" if content else f"<{tag}{''.join(attrs)}/>"

    def value(self, t: object) -> str:
        avoid = set() if self._allow_edge else EDGE_BUCKETS
        bucket = self.choose(("value", _type_key(t)), value_options(t), avoid=avoid)
        return make_value(t, bucket, self.rng, self._id_iter)

    def count(self, ctx: str, pid: str, lo: int, hi: int | None, *, only_undeclared: bool = False) -> int:
        options = _decision_options("occurs", lo, hi)
        if not options or self._shrink:
            return lo
        big = hi is not None and hi > BIG
        avoid = {"max"} if big and self._big_used else set()
        if only_undeclared:  # keep foreign elements out of most messages
            avoid |= {"present", "min+1", "several", "mid", "max"}
        pick = self.choose(("occurs", ctx, pid), options, avoid=avoid)
        if pick in ("absent", "min"):
            return lo
        if pick == "present":
            return 1
        if pick == "min+1":
            return lo + 1
        if pick == "several":
            return lo + UNBOUNDED_SEVERAL
        if pick == "max":
            assert hi is not None
            self._big_used = self._big_used or big
            return hi
        assert pick == "mid" and hi is not None
        return self.rng.randint(lo + 1, min(hi - 1, lo + BIG))

    def group(self, g: XsdGroup, ctx: str, pid: str) -> str:
        out = []
        for _ in range(self.count(ctx, pid, g.min_occurs, g.max_occurs)):
            if g.model == "choice":
                avoid = {str(i) for i, p in enumerate(g) if self._foreign_only(p)}
                i = int(self.choose(("choice", ctx, pid), [str(i) for i in range(len(g))], avoid=avoid))
                items = [(i, g[i])]
            else:
                items = list(enumerate(g))
            for i, p in items:
                sub = f"{pid}.{i}"
                if isinstance(p, XsdGroup):
                    out.append(self.group(p, ctx, sub))
                    continue
                if isinstance(p, XsdAnyElement) and not self.wildcard_options(p):
                    continue  # nothing valid fits (see wildcard_options)
                n = self.count(ctx, sub, p.min_occurs, p.max_occurs, only_undeclared=self._foreign_only(p))
                # Inside a long repetition (up to 1024 items) every nested
                # particle takes its minimum count: one 1024-item list per
                # message stays ~100 KB instead of ~1 MB.
                shrink = n > BIG
                self._shrink += shrink
                try:
                    for _ in range(n):
                        if isinstance(p, XsdAnyElement):
                            out.append(self.wildcard(p, ctx, sub))
                        else:
                            out.append(self.element(p, ctx))
                finally:
                    self._shrink -= shrink
        return "".join(out)

    def wildcard(self, w: XsdAnyElement, ctx: str, pid: str) -> str:
        options = self.wildcard_options(w)
        avoid = {"declared"} if self._wild_depth >= MAX_WILDCARD_DEPTH else set()
        if not self._allow_undeclared:
            avoid.add("undeclared")
        pick = self.choose(("wildcard", ctx, pid), options, avoid=avoid)
        if pick == "undeclared":
            self._undeclared = True
            tag = self.qname(f"{{{FOREIGN_NS}}}Ext")
            return f"<{tag}>v{self.rng.randrange(1000)}</{tag}>"
        candidates = self.wildcard_candidates(w)
        elem = candidates[self.rng.randrange(len(candidates))]
        # A declared element in a wildcard may be a whole V2G_Message: keep it
        # minimal (its types are covered at their usual places anyway).
        self._wild_depth += 1
        self._shrink += 1
        try:
            return self.instance(elem, elem.name)
        finally:
            self._wild_depth -= 1
            self._shrink -= 1


class _Iso2Generator(Generator):
    def _message_name(self, root: XsdElement, xml: str) -> str:
        if root.local_name != "V2G_Message":
            return root.local_name
        # The message type is the BodyElement member chosen last at the top.
        return self._body_type or "EmptyBody"

    def element(self, elem: XsdElement, ctx: str) -> str:
        if elem.name == BODY_ELEMENT:
            self._body_type = None
            members = self.concrete(elem)
            pick = self.choose(("element", ctx, elem.name), [m.name for m in members])
            chosen = next(m for m in members if m.name == pick)
            self._body_type = chosen.local_name
            return self.instance(chosen, f"{ctx}/{chosen.name}")
        return super().element(elem, ctx)

    def message(self, root: XsdElement) -> tuple[str, str]:
        self._body_type = None
        return super().message(root)

    def count(self, ctx: str, pid: str, lo: int, hi: int | None, *, only_undeclared: bool = False) -> int:
        if ctx.endswith("}BodyType") and (lo, hi) == (0, 1):
            # Body's one optional particle is the message itself: left to the
            # 70/30 rule, half the messages would be empty. One empty Body per
            # round of message types instead.
            rounds = len(self.concrete(self.schema.maps.elements[BODY_ELEMENT])) + 1
            pick = "absent" if self._messages % rounds == 0 else "present"
            self.cov.hits[(("occurs", ctx, pid), pick)] += 1
            return 0 if pick == "absent" else 1
        return super().count(ctx, pid, lo, hi, only_undeclared=only_undeclared)


# ---------------------------------------------------------------- public API


def load_schema(schema: str) -> xmlschema.XMLSchema:
    xsd: Path = tooling.schema_xsd(schema)
    return _SCHEMAS.setdefault(schema, xmlschema.XMLSchema(str(xsd)))


_SCHEMAS: dict[str, xmlschema.XMLSchema] = {}


def roots(schema: str, fragment: bool) -> list[XsdElement]:
    """Root elements generated for a schema and mode.

    Documents: V2G_Message (iso2), both AppProtocol messages (app, iso20-app), Signature
    (xmldsig), every message (global ``...Req``/``...Res`` element) of the set's own
    namespace (iso20-common, -dc, -ac, -acdp, -wpt: -20 messages are document roots).
    Fragments: iso2 and iso20-common -> every element whose type carries an Id
    attribute (the elements ISO 15118-2/-20 sign); xmldsig -> SignedInfo.
    """
    s = load_schema(schema)
    if not fragment:
        if schema == "iso2":
            return [s.maps.elements[ISO2_ROOT]]
        if schema in ISO20_MESSAGE_NS:
            ns = f"{{{ISO20_MESSAGE_NS[schema]}}}"
            return [e for n, e in sorted(s.maps.elements.items())
                    if n.startswith(ns) and n.endswith(("Req", "Res"))]
        if schema in ("app", "iso20-app"):
            return [e for n, e in sorted(s.maps.elements.items()) if not n.startswith(XS)]
        return [s.maps.elements[f"{{{DS_NS}}}Signature"]]
    if schema == "xmldsig":
        return [s.maps.elements[n] for n in XMLDSIG_FRAGMENT_ROOTS]
    if schema == "iso2":
        return _signed_elements(s, "{urn:iso:15118:2:2013")
    if schema in ISO20_MESSAGE_NS:
        return _signed_elements(s, "{urn:iso:std:iso:15118:-20:")
    return [e for n, e in sorted(s.maps.elements.items()) if not n.startswith(XS)]


def _signed_elements(s: xmlschema.XMLSchema, ns_prefix: str) -> list[XsdElement]:
    """Element declarations (global or local, in namespaces starting ``ns_prefix``) with an Id attribute."""
    found: dict[str, XsdElement] = {}
    for comp in s.maps.iter_components():
        if not isinstance(comp, XsdElement) or comp.ref is not None:
            continue
        if not comp.name or not comp.name.startswith(ns_prefix):
            continue
        t = comp.type
        if isinstance(t, XsdComplexType) and any(str(n).endswith("Id") for n in t.attributes):
            found.setdefault(comp.name, comp)
    return [found[n] for n in sorted(found)]


def universe(schema: str = "iso2", fragment: bool = False) -> dict[Key, list[str]]:
    u = Universe(load_schema(schema))
    for root in roots(schema, fragment):
        u.element(root, "root")
    if len(roots(schema, fragment)) > 1:
        u.points[("root", schema)] = [r.name for r in roots(schema, fragment)]
    return u.points


def generate(seed: int, count: int, schema: str = "iso2", *, fragment: bool = False,
             coverage: Coverage | None = None) -> Iterator[tuple[str, str]]:
    """Yield ``count`` (name, xml) pairs, deterministic for a given seed.

    ``name`` is the message type (BodyElement member, ``EmptyBody``, or the
    root element's local name), suffixed ``+undeclared`` when the message holds
    an element no schema declares. Pass a :class:`Coverage` to collect hits;
    its universe is filled in for you.
    """
    cov = coverage if coverage is not None else Coverage()
    for key, opts in universe(schema, fragment).items():
        cov.universe.setdefault(key, opts)
    s = load_schema(schema)
    gen = (_Iso2Generator if schema == "iso2" else Generator)(s, seed, cov)
    candidates = roots(schema, fragment)
    for _ in range(count):
        if len(candidates) > 1:
            pick = gen.choose(("root", schema), [r.name for r in candidates])
            root = next(r for r in candidates if r.name == pick)
        else:
            root = candidates[0]
        name, xml = gen.message(root)
        cov.messages[name.removesuffix("+undeclared")] += 1
        yield name, xml


if __name__ == "__main__":  # quick look: python -m oracle.generator (from tests/)
    import json
    import sys

    cov = Coverage()
    for n, x in generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1, 5, coverage=cov):
        print(n, x[:300])
    print(json.dumps(cov.report(), indent=1)[:3000])
