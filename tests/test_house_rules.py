"""House rules the layer test (tests/test_layers.py) does not cover, read from the source:

- a step module (features/steps/) imports no other step module and no private (underscore)
  name of any module of the project: what steps share lives in features/support/;
- no literal OPCP path ("/v1/...", "/.well-known/est...", "/cps/...") in the code or the
  Gherkin of features/, nor in simulators/, opcp_cli/ or opcp/: requests name their operation
  (`client.op(name, params)`) and the role table (opcp/access.py) alone holds paths;
- no module is a grab-bag by name (common, util, utils, helpers, misc, shared): a module's
  name says what it holds. (features/support/ is a package, pytest-bdd's place for what steps
  share; each of its modules is named by what it holds.)

Each checker is proved on synthetic source that breaks its rule, then run on the project.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = ("features", "simulators", "opcp", "opcp_reference", "opcp_cli", "v2g", "tests")
STEPS = "features.steps"
PATH_SCOPES = ("features", "simulators", "opcp_cli", "opcp")
PATH_EXEMPT = {"opcp/access.py"}  # the role table: where every operation's path lives
# A string that is a path (or a URL with one): it begins with an OPCP prefix. Prose that
# mentions a path in a sentence is not a request.
OPCP_PATH = re.compile(r"^\s*(?:https?://[^/\s]*)?(/v1/|/\.well-known/est|/cps/)")
GHERKIN_STEP = re.compile(r"^\s*(Given|When|Then|And|But)\b")


def _project(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in PROJECT


def step_import_problems(source: str, name: str) -> list[str]:
    """What a step module `name` (dotted) imports against the rules."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(STEPS + ".") and alias.name != name:
                    problems.append(f"{name} imports the step module {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _project(node.module):
            module = node.module or ""
            if module == STEPS or (module.startswith(STEPS + ".") and module != name):
                problems.append(f"{name} imports from the step module {module}")
            for alias in node.names:
                if alias.name.startswith("_"):
                    problems.append(f"{name} imports the private name {alias.name} from {module}")
                elif module == STEPS:
                    problems.append(f"{name} imports the step module {STEPS}.{alias.name}")
    return problems


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def literal_path_problems(source: str, where: str) -> list[str]:
    """String literals (docstrings aside) of Python source that are OPCP paths."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return [f"{where}:{node.lineno}: literal OPCP path {node.value[:70]!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip and OPCP_PATH.search(node.value)]


def gherkin_path_problems(text: str, where: str) -> list[str]:
    """Steps of a feature file that spell an OPCP path instead of naming the operation."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if GHERKIN_STEP.match(line):
            for quoted in re.findall(r'"([^"]*)"', line):
                if OPCP_PATH.search(quoted):
                    problems.append(f"{where}:{number}: literal OPCP path {quoted!r}")
    return problems


# --------------------------------------------------------------------- the checkers can fail

def test_a_step_module_importing_another_step_module_is_caught():
    source = "from features.steps.cps_steps import sign_new\nimport features.steps.ccp_steps\n"
    problems = step_import_problems(source, "features.steps.pcp_steps")
    assert len(problems) == 2, problems
    assert "from the step module features.steps.cps_steps" in problems[0]
    assert step_import_problems("from features.steps import http_steps\n",
                                "features.steps.pcp_steps")


def test_a_private_name_from_the_project_is_caught():
    for source in ("from features.support.setup import _helper\n",
                   "from simulators.oem import _first_res\n",
                   "from opcp.client import OpcpClient, _private\n"):
        assert step_import_problems(source, "features.steps.x_steps"), source
    # Outside the project, underscore names are that library's business.
    assert not step_import_problems("from pytest_bdd import given\nfrom os import _exit\n",
                                    "features.steps.x_steps")
    assert not step_import_problems("from features.support.calls import send\n",
                                    "features.steps.x_steps")


def test_a_literal_opcp_path_is_caught():
    bad = ('ROOTS = "/v1/root/rootCerts"\n'
           'x = api.call("GET", "cps", "/cps/signer")\n'
           'y = f"/.well-known/est/{ca}/cacerts"\n'
           'z = "https://opcp.example/v1/oem/provCerts"\n')
    assert len(literal_path_problems(bad, "synthetic.py")) == 4
    fine = ('"""Calls GET /v1/root/rootCerts (prose in a docstring)."""\n'
            'note = "the spec writes it without /.well-known/est"\n'
            'got = client.op("getAllRootCerts", role="CPO")\n')
    assert literal_path_problems(fine, "synthetic.py") == []


def test_a_literal_opcp_path_in_gherkin_is_caught():
    bad = ('Feature: x\n  Scenario: y\n    When I GET "/v1/root/ctl" of the rcp service\n'
           '    And I ask at "/.well-known/est/{ca}/cacerts/ISO15118-2/secp256r1"\n')
    assert len(gherkin_path_problems(bad, "synthetic.feature")) == 2
    fine = ('  Scenario: CitrineOS asks at /.well-known/cpo/cacerts\n'
            '    When I ask for the "cpo" CA certificates at "/.well-known/{ca}/cacerts"\n'
            '    When I call "getCertificateTrustList"\n')
    assert gherkin_path_problems(fine, "synthetic.feature") == []


# --------------------------------------------------------------------- the project keeps them

def _python_files(top: str) -> list[Path]:
    return sorted(p for p in (REPO / top).rglob("*.py") if ".venv" not in p.parts)


@pytest.mark.parametrize("path", _python_files("features/steps"), ids=lambda p: p.name)
def test_step_modules_share_only_through_support(path: Path):
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    assert step_import_problems(path.read_text(), name) == []


def test_no_literal_opcp_path_outside_the_role_table():
    problems = []
    for top in PATH_SCOPES:
        for path in _python_files(top):
            where = path.relative_to(REPO).as_posix()
            if where not in PATH_EXEMPT:
                problems += literal_path_problems(path.read_text(), where)
    for path in sorted((REPO / "features").rglob("*.feature")):
        problems += gherkin_path_problems(path.read_text(), path.relative_to(REPO).as_posix())
    assert problems == [], "\n".join(problems)


GRAB_BAGS = {"common", "util", "utils", "helpers", "misc", "shared"}


def grab_bag_modules(paths: list[Path]) -> list[str]:
    return [str(p) for p in paths if p.stem in GRAB_BAGS]


def test_the_grab_bag_check_sees_one():
    assert grab_bag_modules([Path("simulators/common.py"), Path("opcp/models/error.py")]) == [
        "simulators/common.py"]


def test_no_module_is_a_grab_bag_by_name():
    modules = [p.relative_to(REPO) for top in PROJECT
               for p in (REPO / top).rglob("*.py") if ".venv" not in p.parts]
    assert grab_bag_modules(modules) == []
