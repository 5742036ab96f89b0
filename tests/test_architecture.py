"""The package's shape, read from its source: imports run one way, modules and functions stay short,
the environment and the stored years each have one home, importing runs nothing."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aquamind_assets"
# lower layers never import higher ones: the simulation knows no database, the warehouse no Dagster
LAYERS = ["config", "sim", "warehouse", "export", "rules", "report", "runtime", "defs", "cli"]
TOP_LEVEL = {"aquamind_assets"}
DEFINITIONS = "aquamind_assets.definitions"  # Dagster's entry point: the Dagster wiring's layer
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 80


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = modules()


def _resolve(name: str, node: ast.ImportFrom | ast.Import, alias: ast.alias) -> str | None:
    """The project module an import statement names (a submodule when `from pkg import mod`)."""
    if isinstance(node, ast.Import):
        target = alias.name
    else:
        base = name.split(".") if MODULES[name].name == "__init__.py" else name.split(".")[:-1]
        if node.level:
            base = base[:len(base) - node.level + 1]
        else:
            base = []
        target = ".".join([*base, *(node.module.split(".") if node.module else [])])
        if f"{target}.{alias.name}" in MODULES:
            target = f"{target}.{alias.name}"
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target if target.startswith("aquamind_assets") else None


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports, at module level and inside functions alike."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    target = _resolve(name, node, alias)
                    if target and target != name:
                        deps.add(target)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> int | None:
    if module == DEFINITIONS:
        return LAYERS.index("defs")
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_imports_run_one_way_through_the_layers():
    upward = [(m, d) for m, deps in import_graph().items() for d in deps
              if m not in TOP_LEVEL and layer(m) is not None and (layer(d) is None or layer(d) > layer(m))
              and d not in ("aquamind_assets",)]
    assert upward == []


def test_every_module_sits_in_a_layer():
    assert [m for m in MODULES if m not in TOP_LEVEL and layer(m) is None] == []


def test_modules_and_functions_stay_short():
    long_modules = [(m, n) for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    long_functions = []
    for m, p in MODULES.items():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append((m, node.name, n))
    assert (long_modules, long_functions) == ([], [])


def _reads_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os" and \
                any(a.name in ("environ", "getenv") for a in node.names):
            return True
    return False


def test_only_the_runtime_settings_read_the_environment():
    readers = [m for m, p in MODULES.items() if _reads_environment(ast.parse(p.read_text()))]
    assert readers == ["aquamind_assets.runtime.settings"]


YEAR_INTS = {2014, 2015, 2024, 2025}
YEAR_TEXT = re.compile(r"(?<![\d_.])(2015|2024)(?![\d_])")


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def year_literals(path: Path) -> list[tuple[int, object]]:
    """(line, value) of every int that is a bound of the stored range and every string (docstrings
    aside) that spells one of its years."""
    tree = ast.parse(path.read_text())
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docs:
            v = node.value
            if (type(v) is int and v in YEAR_INTS) or (isinstance(v, str) and YEAR_TEXT.search(v)):
                found.append((node.lineno, v))
    return found


def test_the_year_range_is_written_in_one_module():
    where = {m: year_literals(p) for m, p in MODULES.items()}
    assert {m: v for m, v in where.items() if v} == {"aquamind_assets.config.years": where["aquamind_assets.config.years"]}


def test_dbt_project_yml_agrees_with_config_years():
    from aquamind_assets.config import years

    text = (ROOT / "dbt_project" / "dbt_project.yml").read_text()
    found = {k: v for k, v in re.findall(r"^\s*(min_year|max_year):\s*(\d+)", text, re.M)}
    assert found == {"min_year": str(years.FIRST_YEAR), "max_year": str(years.LAST_YEAR)}
    dates = dict(re.findall(r'^\s*(history_start_date|history_end_date):\s*"([\d-]+)"', text, re.M))
    assert dates in ({}, {"history_start_date": years.FIRST_DATE, "history_end_date": years.LAST_DATE})


@pytest.mark.parametrize("module", ["aquamind_assets.definitions", "aquamind_assets.cli"])
def test_importing_starts_no_process(module):
    """Importing the definitions (what every Dagster process does) runs no dbt parse, no simulation,
    no server: the import is watched for child processes of the project's own tools (Python itself
    asks `file` for the platform's architecture, which is not ours)."""
    code = ("import subprocess, sys\n"
            "started = []\n"
            "real = subprocess.Popen.__init__\n"
            "def watch(self, args, *a, **k):\n"
            "    first = str(args[0] if isinstance(args, (list, tuple)) else args).split()[0]\n"
            "    started.append(first.rsplit('/', 1)[-1])\n"
            "    return real(self, args, *a, **k)\n"
            "subprocess.Popen.__init__ = watch\n"
            f"import {module}\n"
            "ours = [c for c in started if c.startswith(('dbt', 'python', 'pg_ctl', 'initdb', 'postgres', 'dagster'))]\n"
            "sys.exit('started at import: %r' % ours if ours else 0)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_a_missing_manifest_is_a_clear_error_not_a_parse(tmp_path):
    """Without a parsed dbt project the import fails in one line saying how to parse, and starts no dbt."""
    import shutil

    project = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    code = ("import subprocess, sys\n"
            "started = []\n"
            "real = subprocess.Popen.__init__\n"
            "def watch(self, args, *a, **k):\n"
            "    started.append(str(args[0] if isinstance(args, (list, tuple)) else args).split()[0].rsplit('/', 1)[-1])\n"
            "    return real(self, args, *a, **k)\n"
            "subprocess.Popen.__init__ = watch\n"
            "from dagster_dbt import DbtProject\n"
            "import aquamind_assets.defs.dbt.project as p\n"
            f"p.dbt_project = DbtProject(project_dir={str(project)!r}, profiles_dir={str(project)!r})\n"
            "try:\n"
            "    import aquamind_assets.definitions\n"
            "except p.ManifestMissing as e:\n"
            "    print(e)\n"
            "sys.exit('dbt started at import' if any(c.startswith('dbt') for c in started) else 0)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no dbt manifest" in proc.stdout and "./scripts/setup" in proc.stdout


OUTSIDE = re.compile(r"REFERENCE \d|REFERENCE\.md|reference/[\w-]+\.md|predecessor-notes|\.\./shared")


def test_citations_point_inside_the_repository():
    """The package, the dbt project and the report cite docs/domain.md, never files outside the repo."""
    texts = [*PACKAGE.rglob("*.py"), *(ROOT / "dbt_project").glob("[!t]*/**/*.*"),
             ROOT / "dbt_project" / "dbt_project.yml"]
    found = [f"{p.relative_to(ROOT)}:{n}" for p in texts if p.is_file() and "target" not in p.parts
             for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert found == []
