"""The project's own compact schema description language, and the resolved model it yields.

A schema is written as Python calls on a :class:`Module` (one per target namespace):

    dt = Module("urn:...:MsgDataTypes", prefixes={"ds": XMLDSIG_NS}, qualified_attributes=True)
    dt.enum("isolationLevelType", "Invalid Valid Warning Fault No_IMD")
    dt.simple("percentValueType", "xs:byte", min=0, max=100)
    dt.complex("PhysicalValueType", fields("Multiplier:unitMultiplierType Unit:unitSymbolType Value:xs:short"))

Content models are built from :func:`fields` (a one-line sequence of local elements),
:func:`seq`, :func:`choice`, :func:`el` (local element), :func:`ref` (global element) and
:func:`any_` (wildcard). Occurrences are written as suffixes: ``?`` (0..1), ``*`` (0..n),
``+`` (1..n), ``{2,8}``. Type and element references are ``prefix:name`` strings, resolved
when the modules are joined into a :class:`Schema`; no prefix means the module's own namespace.

The resolved model (ElementDecl, ComplexType, SimpleType, Particle, ...) carries exactly the
facts the EXI grammar builder needs: order and occurrence of particles, choices,
substitution groups, attribute uses, and the simple-type facets that pick an EXI datatype.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from v2g.errors import SchemaError

XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"

UNBOUNDED = None


# ----------------------------------------------------------------------------- resolved model


@dataclass(eq=False)
class SimpleType:
    name: str | None  # None for an anonymous type
    ns: str
    base: SimpleType | None
    enumeration: tuple[str, ...] | None = None
    facets: dict[str, int] = field(default_factory=dict)

    @property
    def qname(self) -> tuple[str, str] | None:
        return None if self.name is None else (self.ns, self.name)

    def builtin_ancestor(self) -> SimpleType:
        """The nearest ancestor (or self) from the XML Schema namespace."""
        t: SimpleType | None = self
        while t is not None and t.ns != XS_NS:
            t = t.base
        if t is None:
            raise SchemaError(f"simple type {self.name} has no built-in ancestor")
        return t

    def primitive(self) -> str:
        """Name of the primitive built-in type this type derives from."""
        t = self.builtin_ancestor()
        while t.base is not None and t.base.name != "anySimpleType":
            t = t.base
        return t.name or ""

    def is_derived_from(self, name: str) -> bool:
        t: SimpleType | None = self
        while t is not None:
            if t.ns == XS_NS and t.name == name:
                return True
            t = t.base
        return False

    def effective_enumeration(self) -> tuple[str, ...] | None:
        t: SimpleType | None = self
        while t is not None:
            if t.enumeration is not None:
                return t.enumeration
            t = t.base
        return None

    def effective_facet(self, name: str) -> int | None:
        """The most restrictive value of a bound facet along the derivation chain."""
        result: int | None = None
        t: SimpleType | None = self
        while t is not None:
            v = t.facets.get(name)
            if v is not None:
                if result is None:
                    result = v
                elif name in ("minInclusive", "minLength"):
                    result = max(result, v)
                else:
                    result = min(result, v)
            t = t.base
        return result


@dataclass(eq=False)
class AttributeDecl:
    name: str
    ns: str
    type: SimpleType

    @property
    def qname(self) -> tuple[str, str]:
        return (self.ns, self.name)


@dataclass(eq=False)
class AttributeUse:
    decl: AttributeDecl
    required: bool


@dataclass(eq=False)
class Wildcard:
    namespace: str  # "##any" or "##other"
    owner_ns: str = ""


@dataclass(eq=False)
class Group:
    kind: str  # "sequence" or "choice"
    particles: list[Particle]


@dataclass(eq=False)
class Particle:
    term: ElementDecl | Group | Wildcard
    min: int = 1
    max: int | None = 1


@dataclass(eq=False)
class ComplexType:
    name: str | None
    ns: str
    content: str  # "empty", "simple", "element" or "mixed"
    attributes: list[AttributeUse] = field(default_factory=list)
    particle: Particle | None = None
    simple: SimpleType | None = None
    base: ComplexType | SimpleType | None = None
    abstract: bool = False

    @property
    def qname(self) -> tuple[str, str] | None:
        return None if self.name is None else (self.ns, self.name)


TypeDef = SimpleType | ComplexType


@dataclass(eq=False)
class ElementDecl:
    name: str
    ns: str
    type: TypeDef
    is_global: bool = False
    abstract: bool = False
    nillable: bool = False
    substitution_head: ElementDecl | None = None

    @property
    def qname(self) -> tuple[str, str]:
        return (self.ns, self.name)


# ----------------------------------------------------------------------------- built-in types

# name: (base, facets); only what EXI needs to pick a datatype and range.
_BUILTINS: dict[str, tuple[str | None, dict[str, int]]] = {
    "anySimpleType": (None, {}),
    "string": ("anySimpleType", {}),
    "normalizedString": ("string", {}),
    "token": ("normalizedString", {}),
    "language": ("token", {}),
    "Name": ("token", {}),
    "NMTOKEN": ("token", {}),
    "NCName": ("Name", {}),
    "ID": ("NCName", {}),
    "IDREF": ("NCName", {}),
    "ENTITY": ("NCName", {}),
    "anyURI": ("anySimpleType", {}),
    "QName": ("anySimpleType", {}),
    "NOTATION": ("anySimpleType", {}),
    "boolean": ("anySimpleType", {}),
    "base64Binary": ("anySimpleType", {}),
    "hexBinary": ("anySimpleType", {}),
    "float": ("anySimpleType", {}),
    "double": ("anySimpleType", {}),
    "duration": ("anySimpleType", {}),
    "dateTime": ("anySimpleType", {}),
    "time": ("anySimpleType", {}),
    "date": ("anySimpleType", {}),
    "gYearMonth": ("anySimpleType", {}),
    "gYear": ("anySimpleType", {}),
    "gMonthDay": ("anySimpleType", {}),
    "gDay": ("anySimpleType", {}),
    "gMonth": ("anySimpleType", {}),
    "decimal": ("anySimpleType", {}),
    "integer": ("decimal", {}),
    "nonPositiveInteger": ("integer", {"maxInclusive": 0}),
    "negativeInteger": ("nonPositiveInteger", {"maxInclusive": -1}),
    "long": ("integer", {"minInclusive": -(2**63), "maxInclusive": 2**63 - 1}),
    "int": ("long", {"minInclusive": -(2**31), "maxInclusive": 2**31 - 1}),
    "short": ("int", {"minInclusive": -(2**15), "maxInclusive": 2**15 - 1}),
    "byte": ("short", {"minInclusive": -128, "maxInclusive": 127}),
    "nonNegativeInteger": ("integer", {"minInclusive": 0}),
    "unsignedLong": ("nonNegativeInteger", {"maxInclusive": 2**64 - 1}),
    "unsignedInt": ("unsignedLong", {"maxInclusive": 2**32 - 1}),
    "unsignedShort": ("unsignedInt", {"maxInclusive": 2**16 - 1}),
    "unsignedByte": ("unsignedShort", {"maxInclusive": 255}),
    "positiveInteger": ("nonNegativeInteger", {"minInclusive": 1}),
}

# The EXI spec (appendix D) pre-populates the XML Schema namespace with these local names.
XS_LOCAL_NAMES = sorted(
    [n for n in _BUILTINS] + ["ENTITIES", "IDREFS", "NMTOKENS", "anyType"]
)


def _make_builtins() -> dict[str, SimpleType]:
    made: dict[str, SimpleType] = {}

    def get(name: str) -> SimpleType:
        if name not in made:
            base_name, facets = _BUILTINS[name]
            base = get(base_name) if base_name else None
            made[name] = SimpleType(name, XS_NS, base, None, dict(facets))
        return made[name]

    for n in _BUILTINS:
        get(n)
    return made


BUILTIN_TYPES = _make_builtins()


# ----------------------------------------------------------------------------- the DSL


@dataclass
class _ElSpec:
    """A local element or a reference to a global one, before resolution."""

    name: str
    type: str | _SimpleSpec | _ComplexSpec | None  # None for a reference
    is_ref: bool
    min: int = 1
    max: int | None = 1


@dataclass
class _GroupSpec:
    kind: str
    items: list[_ElSpec | _GroupSpec | _AnySpec]
    min: int = 1
    max: int | None = 1


@dataclass
class _AnySpec:
    namespace: str
    min: int = 1
    max: int | None = 1


@dataclass
class _SimpleSpec:
    base: str
    enumeration: tuple[str, ...] | None
    facets: dict[str, int]


@dataclass
class _AttrSpec:
    name: str
    type: str
    required: bool


@dataclass
class _ComplexSpec:
    content: _GroupSpec | _ElSpec | None
    attrs: list[_AttrSpec]
    base: str | None
    simple_base: str | None
    mixed: bool
    abstract: bool


_OCC = re.compile(r"^(.*?)(\?|\*|\+|\{(\d+),(\d+|n)\})?$")


def _split_occurs(token: str) -> tuple[str, int, int | None]:
    m = _OCC.match(token)
    assert m is not None
    body, occ = m.group(1), m.group(2)
    if occ is None:
        return body, 1, 1
    if occ == "?":
        return body, 0, 1
    if occ == "*":
        return body, 0, UNBOUNDED
    if occ == "+":
        return body, 1, UNBOUNDED
    lo, hi = m.group(3), m.group(4)
    return body, int(lo), (UNBOUNDED if hi == "n" else int(hi))


def occurs(spec: str) -> tuple[int, int | None]:
    _, lo, hi = _split_occurs("x" + spec)
    return lo, hi


def el(name_occ: str, type_: str | _SimpleSpec | _ComplexSpec) -> _ElSpec:
    """A local element: ``el("Name?", "typeName")``; the type may be an inline spec."""
    name, lo, hi = _split_occurs(name_occ)
    return _ElSpec(name, type_, False, lo, hi)


def ref(name_occ: str) -> _ElSpec:
    """A reference to a global element: ``ref("ds:Signature?")``."""
    name, lo, hi = _split_occurs(name_occ)
    return _ElSpec(name, None, True, lo, hi)


def any_(namespace: str = "##any", occ: str = "") -> _AnySpec:
    lo, hi = occurs(occ)
    return _AnySpec(namespace, lo, hi)


def seq(*items: _ElSpec | _GroupSpec | _AnySpec, occ: str = "") -> _GroupSpec:
    lo, hi = occurs(occ)
    return _GroupSpec("sequence", list(items), lo, hi)


def choice(*items: _ElSpec | _GroupSpec | _AnySpec, occ: str = "") -> _GroupSpec:
    lo, hi = occurs(occ)
    return _GroupSpec("choice", list(items), lo, hi)


def fields(line: str, occ: str = "") -> _GroupSpec:
    """A sequence of local elements written on one line.

    Each token is ``Name:type`` (local element) or ``@prefix:Name`` (global element
    reference), followed by an optional occurrence suffix.
    """
    items: list[_ElSpec | _GroupSpec | _AnySpec] = []
    for token in line.split():
        body, lo, hi = _split_occurs(token)
        if body.startswith("@"):
            items.append(_ElSpec(body[1:], None, True, lo, hi))
        else:
            name, _, type_ = body.partition(":")
            if not type_:
                raise SchemaError(f"element {name!r} in fields() has no type")
            items.append(_ElSpec(name, type_, False, lo, hi))
    lo, hi = occurs(occ)
    return _GroupSpec("sequence", items, lo, hi)


def restrict(base: str, *, enum: str | None = None, **facets: int) -> _SimpleSpec:
    """An anonymous simple type: ``restrict("xs:unsignedInt", min=0, max=86400)``."""
    return _SimpleSpec(base, tuple(enum.split()) if enum else None, _facet_names(facets))


def attr(name: str, type_: str, required: bool = False) -> _AttrSpec:
    return _AttrSpec(name, type_, required)


def _facet_names(facets: dict[str, int]) -> dict[str, int]:
    names = {"min": "minInclusive", "max": "maxInclusive", "length": "length",
             "min_length": "minLength", "max_length": "maxLength"}
    out: dict[str, int] = {}
    for k, v in facets.items():
        if k not in names:
            raise SchemaError(f"unknown facet {k}")
        out[names[k]] = v
    return out


class Module:
    """The declarations of one target namespace."""

    def __init__(self, ns: str, prefixes: dict[str, str] | None = None, *,
                 qualified_elements: bool = True, qualified_attributes: bool = False) -> None:
        self.ns = ns
        self.prefixes = {"xs": XS_NS, "": ns, **(prefixes or {})}
        self.qualified_elements = qualified_elements
        self.qualified_attributes = qualified_attributes
        self.simple_specs: dict[str, _SimpleSpec] = {}
        self.complex_specs: dict[str, _ComplexSpec] = {}
        # global elements in declaration order: name -> (type, abstract, substitution head)
        self.element_specs: dict[str, tuple[str | _ComplexSpec, bool, str | None]] = {}

    def simple(self, name: str, base: str, **facets: int) -> None:
        self.simple_specs[name] = _SimpleSpec(base, None, _facet_names(facets))

    def enum(self, name: str, values: str | tuple[str, ...], base: str = "xs:string") -> None:
        """Enumerated values: a space-separated string, or a tuple when a value holds a space."""
        listed = tuple(values.split()) if isinstance(values, str) else values
        self.simple_specs[name] = _SimpleSpec(base, listed, {})

    def complex(self, name: str, content: _GroupSpec | _ElSpec | None = None, *,
                attrs: list[_AttrSpec] | None = None, base: str | None = None,
                simple: str | None = None, mixed: bool = False, abstract: bool = False) -> None:
        """A named complex type.

        ``base`` extends another complex type (its particle first, then ``content``);
        ``simple`` gives simple content of that type (plus ``attrs``).
        """
        self.complex_specs[name] = _ComplexSpec(content, attrs or [], base, simple, mixed, abstract)

    def element(self, name: str, type_: str | _ComplexSpec, *, abstract: bool = False,
                subst: str | None = None) -> None:
        self.element_specs[name] = (type_, abstract, subst)

    def anonymous(self, content: _GroupSpec | None, attrs: list[_AttrSpec] | None = None) -> _ComplexSpec:
        return _ComplexSpec(content, attrs or [], None, None, False, False)

    def qname(self, ref_: str) -> tuple[str, str]:
        prefix, _, local = ref_.rpartition(":")
        if prefix not in self.prefixes:
            raise SchemaError(f"unknown prefix in {ref_!r} (module {self.ns})")
        return (self.prefixes[prefix], local)


# ----------------------------------------------------------------------------- resolution


class Schema:
    """Modules joined and resolved: every reference points to its declaration."""

    def __init__(self, name: str, modules: list[Module]) -> None:
        self.name = name
        self.modules = {m.ns: m for m in modules}
        self.simple_types: dict[tuple[str, str], SimpleType] = {}
        self.complex_types: dict[tuple[str, str], ComplexType] = {}
        self.elements: dict[tuple[str, str], ElementDecl] = {}
        self.attributes: list[AttributeDecl] = []  # every attribute declaration
        self.local_elements: list[ElementDecl] = []  # every element declaration, global first
        self._resolving: set[tuple[str, str]] = set()
        for m in modules:
            for name_ in m.simple_specs:
                self._simple((m.ns, name_))
            for name_ in m.complex_specs:
                self._complex((m.ns, name_))
            for name_ in m.element_specs:
                self._global_element((m.ns, name_))
        # a second pass for substitution groups (heads may be declared after members)
        for m in modules:
            for name_, (_, _, subst) in m.element_specs.items():
                if subst:
                    self.elements[(m.ns, name_)].substitution_head = self.elements[m.qname(subst)]
        self.all_elements: list[ElementDecl] = list(self.elements.values()) + self.local_elements

    # -- types

    def type_by_qname(self, qn: tuple[str, str]) -> TypeDef:
        if qn[0] == XS_NS:
            if qn[1] == "anyType":
                raise SchemaError("xs:anyType is not supported")
            if qn[1] not in BUILTIN_TYPES:
                raise SchemaError(f"unknown built-in type {qn[1]}")
            return BUILTIN_TYPES[qn[1]]
        m = self.modules.get(qn[0])
        if m is None:
            raise SchemaError(f"no module for namespace {qn[0]}")
        if qn[1] in m.simple_specs:
            return self._simple(qn)
        if qn[1] in m.complex_specs:
            return self._complex(qn)
        raise SchemaError(f"unknown type {qn}")

    def _simple(self, qn: tuple[str, str]) -> SimpleType:
        if qn in self.simple_types:
            return self.simple_types[qn]
        m = self.modules[qn[0]]
        spec = m.simple_specs[qn[1]]
        st = self._simple_from_spec(m, spec, qn[1])
        self.simple_types[qn] = st
        return st

    def _simple_from_spec(self, m: Module, spec: _SimpleSpec, name: str | None) -> SimpleType:
        base = self.type_by_qname(m.qname(spec.base))
        if not isinstance(base, SimpleType):
            raise SchemaError(f"simple type {name} restricts complex type {spec.base}")
        return SimpleType(name, m.ns, base, spec.enumeration, dict(spec.facets))

    def _complex(self, qn: tuple[str, str]) -> ComplexType:
        if qn in self.complex_types:
            return self.complex_types[qn]
        if qn in self._resolving:
            raise SchemaError(f"circular type derivation at {qn}")
        self._resolving.add(qn)
        m = self.modules[qn[0]]
        ct = self._complex_from_spec(m, m.complex_specs[qn[1]], qn[1])
        self._resolving.discard(qn)
        self.complex_types[qn] = ct
        return ct

    def _complex_from_spec(self, m: Module, spec: _ComplexSpec, name: str | None) -> ComplexType:
        attrs: list[AttributeUse] = []
        base: ComplexType | SimpleType | None = None
        base_particle: Particle | None = None
        if spec.base:
            b = self.type_by_qname(m.qname(spec.base))
            if not isinstance(b, ComplexType):
                raise SchemaError(f"{name}: complex extension of a simple type")
            base = b
            attrs.extend(b.attributes)
            base_particle = b.particle
        for a in spec.attrs:
            at = self.type_by_qname(m.qname(a.type))
            if not isinstance(at, SimpleType):
                raise SchemaError(f"attribute {a.name} of {name} has a complex type")
            decl = AttributeDecl(a.name, m.ns if m.qualified_attributes else "", at)
            self.attributes.append(decl)
            attrs.append(AttributeUse(decl, a.required))
        if spec.simple_base:
            st = self.type_by_qname(m.qname(spec.simple_base))
            if not isinstance(st, SimpleType):
                raise SchemaError(f"{name}: simple content of a complex type")
            return ComplexType(name, m.ns, "simple", attrs, None, st, st, spec.abstract)
        own = self._particle(m, spec.content) if spec.content is not None else None
        if own is not None and _is_empty(own):
            own = None
        if base_particle is not None and own is not None:
            particle: Particle | None = Particle(Group("sequence", [base_particle, own]), 1, 1)
        else:
            particle = base_particle or own
        if particle is None:
            content = "mixed" if spec.mixed else "empty"
        else:
            content = "mixed" if spec.mixed else "element"
        return ComplexType(name, m.ns, content, attrs, particle, None, base, spec.abstract)

    def _particle(self, m: Module, spec: _ElSpec | _GroupSpec | _AnySpec) -> Particle:
        if isinstance(spec, _GroupSpec):
            return Particle(Group(spec.kind, [self._particle(m, s) for s in spec.items]), spec.min, spec.max)
        if isinstance(spec, _AnySpec):
            return Particle(Wildcard(spec.namespace, m.ns), spec.min, spec.max)
        if spec.is_ref:
            return Particle(self._global_element(m.qname(spec.name)), spec.min, spec.max)
        assert spec.type is not None
        t = self._type_of(m, spec.type)
        decl = ElementDecl(spec.name, m.ns if m.qualified_elements else "", t)
        self.local_elements.append(decl)
        return Particle(decl, spec.min, spec.max)

    def _type_of(self, m: Module, t: str | _SimpleSpec | _ComplexSpec) -> TypeDef:
        if isinstance(t, str):
            return self.type_by_qname(m.qname(t))
        if isinstance(t, _SimpleSpec):
            return self._simple_from_spec(m, t, None)
        return self._complex_from_spec(m, t, None)

    def _global_element(self, qn: tuple[str, str]) -> ElementDecl:
        if qn in self.elements:
            return self.elements[qn]
        m = self.modules.get(qn[0])
        if m is None or qn[1] not in m.element_specs:
            raise SchemaError(f"unknown global element {qn}")
        type_, abstract, _ = m.element_specs[qn[1]]
        decl = ElementDecl(qn[1], qn[0], BUILTIN_TYPES["string"], True, abstract)
        self.elements[qn] = decl  # before resolving the type: types may refer back
        decl.type = self._type_of(m, type_)
        return decl

    def named_types(self) -> list[TypeDef]:
        return [*self.simple_types.values(), *self.complex_types.values()]


def _is_empty(p: Particle) -> bool:
    return isinstance(p.term, Group) and all(_is_empty(q) for q in p.term.particles)
