"""The project's schema descriptions against the ISO 15118-2 and -20 XSDs (test-time oracle).

The XSDs come from the iso15118==0.31.2 wheel (fetched by tests/oracle/tooling.py into
.tools/oracle/): the -2 ones from its EXIficient jar, the -20 ones (ISO 15118-20:2022) from
the wheel's schema directory, copied to a temporary directory without xmldsig's DOCTYPE.
They are read with ``xmlschema`` and
compared with the model built from v2g/exi/schemas, type by type: element order,
occurrence bounds, choices, wildcards, substitution groups, attribute uses and simple-type
facets. A mismatch names the type.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from v2g.exi.model import XS_NS, ComplexType, ElementDecl, Group, Particle, SimpleType, Wildcard
from v2g.exi.schemas import load_schema

xmlschema = pytest.importorskip("xmlschema")

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ("iso2", "app", "xmldsig", "iso20-common", "iso20-dc", "iso20-ac", "iso20-acdp", "iso20-wpt",
           "iso20-app")


def _tooling() -> Any:
    tooling_path = ROOT / "tests" / "oracle" / "tooling.py"
    try:
        spec = importlib.util.spec_from_file_location("opcp_oracle_tooling", tooling_path)
        assert spec and spec.loader
        tooling = importlib.util.module_from_spec(spec)
        sys.modules["opcp_oracle_tooling"] = tooling  # its dataclasses look the module up
        spec.loader.exec_module(tooling)
        tooling.ensure_xsds()
        tooling.xsd20_dir()
        return tooling
    except Exception as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"ISO 15118 XSDs unavailable: {exc}")
        pytest.skip(f"ISO 15118 XSDs unavailable: {exc}")
        raise


@pytest.fixture(scope="module")
def tooling() -> Any:
    return _tooling()


def _occ(lo: int, hi: int | None) -> tuple[int, int | None]:
    return (lo, hi)


# ----------------------------------------------------------------------------- canonical forms


def _canon(node: Any) -> Any:
    """Flatten 1..1 nested sequences, drop empty groups, unwrap 1..1 single-item groups."""
    if node[0] != "group":
        return node
    _, model, occ, items = node
    out = []
    for it in (_canon(i) for i in items):
        if it is None:
            continue
        if model == "sequence" and it[0] == "group" and it[1] == "sequence" and it[2] == (1, 1):
            out.extend(it[3])
        else:
            out.append(it)
    if not out:
        return None
    if len(out) == 1 and occ == (1, 1):
        return out[0]
    if len(out) == 1 and out[0][0] == "group" and out[0][2] == (1, 1):
        return ("group", out[0][1], occ, out[0][3])
    return ("group", model, occ, tuple(out))


def _type_key(t: Any, name: str | None, ns: str | None) -> str:
    return f"{{{ns}}}{name}" if name else "anonymous"


def x_particle(p: Any) -> Any:
    from xmlschema.validators import XsdAnyElement, XsdElement, XsdGroup

    occ = _occ(p.min_occurs, p.max_occurs)
    if isinstance(p, XsdGroup):
        return ("group", p.model, occ, tuple(x_particle(i) for i in p))
    if isinstance(p, XsdAnyElement):
        ns = p.namespace
        ns = "##any" if ns in ("##any", ["##any"]) or "##any" in ns else "##other"
        return ("any", ns, occ)
    assert isinstance(p, XsdElement)
    t = p.type
    return ("el", p.name, occ, "anonymous" if t.name is None else t.name, p.ref is not None)


def m_particle(p: Particle) -> Any:
    occ = _occ(p.min, p.max)
    t = p.term
    if isinstance(t, Group):
        return ("group", t.kind, occ, tuple(m_particle(i) for i in t.particles))
    if isinstance(t, Wildcard):
        return ("any", t.namespace, occ)
    assert isinstance(t, ElementDecl)
    return ("el", f"{{{t.ns}}}{t.name}" if t.ns else t.name, occ,
            _type_key(t.type, t.type.name, t.type.ns), t.is_global)


def x_complex(t: Any) -> dict[str, Any]:
    if t.has_simple_content():
        kind = "simple"
    elif t.mixed:
        kind = "mixed"
    elif t.is_empty():
        kind = "empty"
    else:
        kind = "element"
    attrs = sorted((k, v.use == "required", v.type.name) for k, v in t.attributes.items() if k)
    content = None if kind in ("simple", "empty") else _canon(x_particle(t.content))
    simple = None
    if kind == "simple":
        st = t.content if t.content.name else t.content.base_type
        simple = st.name
    return {"kind": kind, "attributes": attrs, "content": content, "simple": simple,
            "abstract": bool(t.abstract)}


def m_complex(t: ComplexType) -> dict[str, Any]:
    attrs = sorted((f"{{{u.decl.ns}}}{u.decl.name}" if u.decl.ns else u.decl.name, u.required,
                    f"{{{u.decl.type.ns}}}{u.decl.type.name}") for u in t.attributes)
    content = None
    if t.content in ("element", "mixed") and t.particle is not None:
        content = _canon(m_particle(t.particle))
    simple = None
    if t.content == "simple" and t.simple is not None:
        simple = f"{{{t.simple.ns}}}{t.simple.name}"
    return {"kind": t.content, "attributes": attrs, "content": content, "simple": simple,
            "abstract": t.abstract}


_FACETS = ("minInclusive", "maxInclusive", "length", "minLength", "maxLength")


def x_simple(t: Any) -> dict[str, Any]:
    facets = {}
    for f in _FACETS:
        v = t.facets.get(f"{{{XS_NS}}}{f}")
        if v is not None:
            facets[f] = int(v.value)
    enum = t.enumeration
    return {"base": t.base_type.name, "enumeration": tuple(str(e) for e in enum) if enum else None,
            "facets": facets}


def m_simple(t: SimpleType) -> dict[str, Any]:
    assert t.base is not None
    return {"base": f"{{{t.base.ns}}}{t.base.name}", "enumeration": t.enumeration,
            "facets": dict(t.facets)}


# ----------------------------------------------------------------------------- the comparisons


@pytest.fixture(scope="module", params=SCHEMAS)
def pair(request: pytest.FixtureRequest, tooling: Any) -> tuple[Any, Any]:
    name = request.param
    xs = xmlschema.XMLSchema10(str(tooling.schema_xsd(name)))
    return xs.maps, load_schema(name)


def _ours(maps: Any) -> list[str]:
    return [k for k in maps.types if not k.startswith(f"{{{XS_NS}}}")]


def test_same_named_types(pair: tuple[Any, Any]) -> None:
    maps, model = pair
    xsd_names = set(_ours(maps))
    ours = {f"{{{ns}}}{n}" for (ns, n) in [*model.simple_types, *model.complex_types]}
    assert sorted(xsd_names - ours) == [], "types missing from the description"
    assert sorted(ours - xsd_names) == [], "types the XSDs do not declare"


def test_complex_types_match(pair: tuple[Any, Any]) -> None:
    maps, model = pair
    mismatches = []
    for key in _ours(maps):
        t = maps.types[key]
        if t.is_simple():
            continue
        ns, _, local = key[1:].partition("}")
        mine = model.complex_types[(ns, local)]
        if x_complex(t) != m_complex(mine):
            mismatches.append(f"{local}: XSD {x_complex(t)} != model {m_complex(mine)}")
    assert mismatches == []


def test_simple_types_match(pair: tuple[Any, Any]) -> None:
    maps, model = pair
    mismatches = []
    for key in _ours(maps):
        t = maps.types[key]
        if not t.is_simple():
            continue
        ns, _, local = key[1:].partition("}")
        mine = model.simple_types[(ns, local)]
        if x_simple(t) != m_simple(mine):
            mismatches.append(f"{local}: XSD {x_simple(t)} != model {m_simple(mine)}")
    assert mismatches == []


def test_global_elements_match(pair: tuple[Any, Any]) -> None:
    maps, model = pair
    xsd = {k: v for k, v in maps.elements.items() if not k.startswith(f"{{{XS_NS}}}")}
    ours = {f"{{{ns}}}{n}": d for (ns, n), d in model.elements.items()}
    assert sorted(xsd) == sorted(ours)
    mismatches = []
    for key, e in xsd.items():
        d = ours[key]
        x = (e.type.name, bool(e.abstract), e.substitution_group)
        head = d.substitution_head
        m = (d.type.name and f"{{{d.type.ns}}}{d.type.name}", d.abstract,
             head and f"{{{head.ns}}}{head.name}")
        if x != m:
            mismatches.append(f"element {key}: XSD {x} != model {m}")
        if e.type.name is None and not e.type.is_simple():
            assert isinstance(d.type, ComplexType)
            if x_complex(e.type) != m_complex(d.type):
                mismatches.append(f"anonymous type of {key}: XSD {x_complex(e.type)} != model {m_complex(d.type)}")
    assert mismatches == []


def test_anonymous_simple_types_of_local_elements(pair: tuple[Any, Any]) -> None:
    """Local elements with inline simple types (e.g. RelativeTimeInterval start/duration)."""
    maps, model = pair
    found = 0
    for key in _ours(maps):
        t = maps.types[key]
        if t.is_simple() or t.has_simple_content():
            continue
        for e in t.content.iter_elements():
            if getattr(e, "type", None) is None:
                continue  # a wildcard
            if e.ref is None and e.type.name is None and e.type.is_simple():
                ns, _, local = key[1:].partition("}")
                mine_t = model.complex_types[(ns, local)]
                assert mine_t.particle is not None
                decl = _find_local(mine_t.particle, e.name)
                assert decl is not None, f"{local}/{e.name} missing"
                assert isinstance(decl.type, SimpleType)
                x = x_simple(e.type)
                m = m_simple(decl.type)
                assert x == m, f"{local}/{e.name}: XSD {x} != model {m}"
                found += 1
    if pair[1].name == "iso2":
        assert found == 2


def _find_local(p: Particle, qname: str) -> ElementDecl | None:
    t = p.term
    if isinstance(t, Group):
        for q in t.particles:
            r = _find_local(q, qname)
            if r is not None:
                return r
        return None
    if isinstance(t, ElementDecl) and (f"{{{t.ns}}}{t.name}" if t.ns else t.name) == qname:
        return t
    return None
