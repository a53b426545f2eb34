"""The layers of the house, as data, held against every import in the code.

Dependencies point down (docs/architecture.md):

    opcp_cli (the CLI and the wiring that starts things)        top
    features (the suite)
    simulators (the actors)          opcp_reference (the reference)
    opcp (the shared library: models, rules, target files, the HTTP client)
    v2g (ISO 15118, sans-I/O)                                    bottom

A module may import its own package and the packages its layer lists in ``MAY_IMPORT``;
nothing else of the project. ``v2g`` imports no HTTP or socket library; the reference's
domain imports neither its HTTP layer nor aiohttp. Imports inside functions count as well:
a deferred import still points up.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROJECT = ("v2g", "opcp", "opcp_reference", "simulators", "features", "opcp_cli")

MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "v2g": (),
    "opcp": ("v2g",),
    "opcp_reference": ("opcp", "v2g"),
    "simulators": ("opcp", "v2g"),
    "features": ("simulators", "opcp", "v2g"),
    "opcp_cli": ("features", "simulators", "opcp_reference", "opcp", "v2g"),
}

# Third-party or project modules a part of the house must not use, with the reason.
FORBIDDEN: tuple[tuple[str, str, str], ...] = (
    ("v2g", "aiohttp", "v2g is sans-I/O"),
    ("v2g", "httpx", "v2g is sans-I/O"),
    ("v2g", "requests", "v2g is sans-I/O"),
    ("v2g", "websockets", "v2g is sans-I/O"),
    ("v2g", "socket", "v2g is sans-I/O"),
    ("v2g", "urllib.request", "v2g is sans-I/O"),
    ("opcp_reference.domain", "aiohttp", "the domain is testable without a server"),
    ("opcp_reference.domain", "opcp_reference.http", "handlers call the domain, never the reverse"),
)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.rule}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module a source imports (absolute names; relative imports resolved)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from pkg import sub` may name a submodule: count pkg.sub as imported too.
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def check_module(module: str, source: str, is_package: bool = False) -> list[Violation]:
    top = module.split(".")[0]
    allowed = (top, *MAY_IMPORT[top])
    out = []
    for line, name in imports_of(source, module, is_package):
        first = name.split(".")[0]
        if first in PROJECT and first not in allowed:
            out.append(Violation(module, line, name, f"{top} may import only {', '.join(allowed)}"))
        for part, banned, why in FORBIDDEN:
            if _within(module, part) and _within(name, banned):
                out.append(Violation(module, line, name, why))
    return sorted(set(out), key=lambda v: (v.line, v.imported))


def violations(root: Path = REPO) -> list[Violation]:
    out = []
    for package in PROJECT:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            out += check_module(module, path.read_text(), path.name == "__init__.py")
    return out


def test_every_import_points_down() -> None:
    found = violations()
    assert not found, "imports that point up or across:\n" + "\n".join(map(str, found))


def test_every_package_has_a_layer() -> None:
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert packages - {"tests"} == set(PROJECT), "a new top-level package needs its row in MAY_IMPORT"


# The checker itself, on deliberate violations: each rule can fail.

def test_an_upward_import_from_v2g_is_refused() -> None:
    found = check_module("v2g.pki.builder", "from opcp import ids\n")
    assert [str(v) for v in found] == ["v2g.pki.builder:1 imports opcp: v2g may import only v2g",
                                       "v2g.pki.builder:1 imports opcp.ids: v2g may import only v2g"]


def test_the_suite_reaching_into_the_reference_is_refused() -> None:
    source = "def f():\n    from opcp_reference.server import EmbeddedReference\n"
    found = check_module("features.support.runner", source)
    assert found and all(v.line == 2 and v.imported.startswith("opcp_reference") for v in found)


def test_actors_reaching_into_the_reference_or_the_suite_are_refused() -> None:
    assert check_module("simulators.demo", "import opcp_reference.app\n")
    assert check_module("simulators.cpo", "from features.support import rules\n")
    assert not check_module("simulators.cpo", "from opcp.client import OpcpClient\n")


def test_the_shared_library_importing_the_cli_is_refused() -> None:
    assert check_module("opcp.target", "from opcp_cli import main\n")


def test_relative_imports_are_resolved() -> None:
    assert check_module("v2g.pki", "from ..exi import codec\nfrom ...opcp import ids\n", is_package=True)
    assert not check_module("v2g.pki.builder", "from ..exi import codec\n")


def test_http_in_v2g_and_in_the_domain_is_refused() -> None:
    assert [v.rule for v in check_module("v2g.exi.codec", "import httpx\n")] == ["v2g is sans-I/O"]
    assert check_module("opcp_reference.domain.ccp", "from aiohttp import web\n")
    assert check_module("opcp_reference.domain.ccp", "from opcp_reference.http import common\n")
    assert not check_module("opcp_reference.http.ccp_http", "from aiohttp import web\n")
