"""Packaging: what the code imports is what pyproject.toml declares, and the other way round.

Every module is read with `ast` (never imported): every absolute import, at module level or inside a
function, plus the names given to importlib's find_spec / import_module as literals. Top-level names
map to distributions with importlib.metadata.packages_distributions(). aquamind_assets/ must import
only what [project].dependencies declares, and every declared dependency it does not import carries
a comment in pyproject.toml saying what uses it; benchmarks/ may also use the `bench` extra, tests/
the `test` extra. requirements.lock repeats those pins and bounds nothing else without a comment.
"""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"
LOCK = REPO / "requirements.lock"
PACKAGE = "aquamind_assets"
DYNAMIC_IMPORTERS = {"find_spec", "import_module"}
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def _norm(name: str) -> str:
    """PEP 503 name: case and runs of -_. do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(requirement: str) -> str:
    return _norm(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1))


class _Imports(ast.NodeVisitor):
    """Top-level names of absolute imports; `optional` holds those inside try/except ImportError."""

    def __init__(self):
        self.required: set[str] = set()
        self.optional: set[str] = set()
        self._guarded = 0

    def _add(self, dotted: str) -> None:
        (self.optional if self._guarded else self.required).add(dotted.split(".")[0])

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(self._catches_import_error(h) for h in node.handlers)
        self._guarded += guarded
        for child in node.body:
            self.visit(child)
        self._guarded -= guarded
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(child)

    @staticmethod
    def _catches_import_error(handler: ast.ExceptHandler) -> bool:
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return any(isinstance(t, ast.Name) and t.id in IMPORT_ERRORS for t in types)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add(node.module)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name in DYNAMIC_IMPORTERS and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and not node.args[0].value.startswith("."):
            self._add(node.args[0].value)
        self.generic_visit(node)


def imports_of(source: str, filename: str = "<string>") -> _Imports:
    visitor = _Imports()
    visitor.visit(ast.parse(source, filename=filename))
    return visitor


def third_party(root: Path, local: set[str], guarded: bool = False) -> dict[str, list[str]]:
    """{top-level module name: files importing it} of every .py under root, stdlib and `local` left out;
    imports inside try/except ImportError (which run without the distribution) only with `guarded`."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        visitor = imports_of(path.read_text(encoding="utf-8"), str(path))
        names = visitor.required | (visitor.optional if guarded else set())
        for name in names - local - set(sys.stdlib_module_names):
            found.setdefault(name, []).append(str(path.relative_to(REPO)))
    return found


def _undeclared(imported: dict[str, list[str]], declared: set[str]) -> list[str]:
    dists = importlib.metadata.packages_distributions()
    problems = []
    for module, files in sorted(imported.items()):
        candidates = {_norm(d) for d in dists.get(module, [])}
        if not candidates:
            problems.append(f"{module} (imported by {files[0]}) is not installed, so no distribution provides it")
        elif not candidates & declared:
            problems.append(f"{module} (imported by {files[0]}) comes from {sorted(candidates)}, none declared")
    return problems


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]


def _declared(project: dict, *extras: str) -> set[str]:
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return {_req_name(r) for r in reqs}


def dependency_comments(text: str) -> dict[str, str]:
    """{dependency: its comment} for the lines of [project].dependencies that carry one (same line)."""
    block = re.search(r"(?ms)^dependencies = \[\n(.*?)^\]", text)
    assert block, "pyproject.toml: no `dependencies = [` block at the start of a line"
    comments = {}
    for line in block.group(1).splitlines():
        m = re.match(r'\s*"([^"]+)",?\s*(?:#\s*(.*))?$', line)
        if m and m.group(2):
            comments[_req_name(m.group(1))] = m.group(2).strip()
    return comments


# ------------------------------------------------------------------ the reader itself
def test_the_reader_sees_local_guarded_and_dynamic_imports():
    found = imports_of(
        "import os.path\nfrom a.b import c\nfrom . import sibling\nfrom .x import y\n"
        "def f():\n    import b_local\n    from c_local.sub import z\n"
        "class K:\n    def m(self):\n        import d_method\n"
        "try:\n    import e_optional\nexcept (ImportError, OSError):\n    import f_fallback\n"
        "importlib.util.find_spec('g_spec')\nimport_module('h_mod.sub')\nfind_spec('.relative')\n")
    assert found.required == {"os", "a", "b_local", "c_local", "d_method", "f_fallback", "g_spec", "h_mod"}
    assert found.optional == {"e_optional"}


def test_dependency_comments_are_read_from_the_same_line():
    text = 'dependencies = [\n  "a==1",\n  "b-c[x]>=2",  # used by name\n  "d",#why\n]\n'
    assert dependency_comments(text) == {"b-c": "used by name", "d": "why"}


# ------------------------------------------------------------------ the package
def test_every_third_party_import_of_the_package_is_declared(project):
    imported = third_party(REPO / PACKAGE, local={PACKAGE})
    assert {"dagster", "numpy", "psycopg", "pydantic"} <= set(imported), sorted(imported)
    problems = _undeclared(imported, _declared(project))
    assert not problems, "\n".join(problems)


def test_every_declared_dependency_is_imported_or_says_why(project):
    dists = importlib.metadata.packages_distributions()
    imported = {_norm(d) for m in third_party(REPO / PACKAGE, local={PACKAGE}, guarded=True)
                for d in dists.get(m, [])}
    comments = dependency_comments(PYPROJECT.read_text(encoding="utf-8"))
    unused = sorted(_declared(project) - imported - set(comments))
    assert not unused, (f"declared in pyproject.toml, never imported by {PACKAGE}/ and without a comment "
                        f"saying what uses it: {unused}")
    # a comment is for what the package does not import; a stale one would hide a real use
    stale = sorted(set(comments) & imported)
    assert not stale, f"commented as not imported, yet imported: {stale}"


def _benchmark_modules() -> set[str]:
    """benchmarks/'s own modules and packages (tests load some of them by path, e.g. the chaos run)."""
    bench = REPO / "benchmarks"
    return {p.stem for p in bench.glob("*.py")} | {p.parent.name for p in bench.glob("*/__init__.py")}


def test_benchmarks_imports_are_declared_with_the_bench_extra(project):
    local = _benchmark_modules() | {PACKAGE}
    imported = third_party(REPO / "benchmarks", local=local)
    assert "psutil" in imported
    assert "psutil" not in _declared(project), "psutil is for benchmarks/ only: the bench extra"
    problems = _undeclared(imported, _declared(project, "bench"))
    assert not problems, "\n".join(problems)


def test_tests_imports_are_declared_with_the_test_extra(project):
    local = {p.stem for p in (REPO / "tests").rglob("*.py")} | _benchmark_modules() | {PACKAGE}
    imported = third_party(REPO / "tests", local=local)
    assert {"pytest", "hypothesis"} <= set(imported)
    problems = _undeclared(imported, _declared(project, "test"))
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ the lock file
def _lock_entries() -> list[tuple[str, str, bool]]:
    """(requirement without extras, normalized name, directly under a comment line) per lock entry."""
    entries, previous = [], ""
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            req = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).replace(" ", "")
            entries.append((req, _req_name(req), previous.startswith("#")))
        previous = line
    return entries


def test_the_lock_repeats_every_pin_and_explains_the_others(project):
    pins = {_req_name(r): re.sub(r"\[[^]]*\]", "", r).replace(" ", "")
            for r in project["dependencies"] + [r for rs in project["optional-dependencies"].values() for r in rs]}
    entries = _lock_entries()
    locked = {name: req for req, name, _ in entries}
    assert len(locked) == len(entries), "a package listed twice in requirements.lock"
    assert {n: locked.get(n) for n in pins} == pins, "requirements.lock and pyproject.toml pin differently"
    unexplained = [req for req, name, commented in entries if name not in pins and not commented]
    assert not unexplained, f"requirements.lock bounds undeclared packages without a comment: {unexplained}"
    assert {"sqlalchemy", "gql"} <= set(locked) - set(pins), "compatibility bounds belong to the lock, not the deps"


def test_installed_versions_are_the_pinned_ones(project):
    """What scripts/setup installs (dependencies and the test extra) is what pyproject.toml pins."""
    wrong = []
    for req in project["dependencies"] + project["optional-dependencies"]["test"]:
        m = re.match(r"\s*([A-Za-z0-9._-]+)(?:\[[^]]*\])?==([^;,\s]+)\s*$", req)
        if m:
            installed = importlib.metadata.version(m.group(1))
            if installed != m.group(2):
                wrong.append(f"{m.group(1)}: pinned {m.group(2)}, installed {installed}")
    assert not wrong, "\n".join(wrong)
