#!/usr/bin/env python3
"""Print the README's reliability and security guarantees as a Markdown table.

Reads tests/reliability/test_*.py without importing them (ast): every test function's docstring is
one line, "<fault or bad input> -> <what is guaranteed>". A test marked xfail is a guarantee the
code does not keep yet (a known bug): its row says so, with the marker's reason. Rows listed in a
module's COVERED_ELSEWHERE constant point at tests outside tests/reliability/.

    python scripts/guarantees_table.py [--check]     # --check: only validate the docstrings

Exit 1 (listing them) if a test has no docstring, a multi-line one, or one without " -> ".
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests" / "reliability"
SEP = " -> "
ORDER = ["test_rel_faults.py", "test_rel_corruption.py", "test_rel_bad_input.py", "test_rel_security.py"]


def _xfail_reason(fn: ast.FunctionDef) -> str | None:
    """The reason of an @pytest.mark.xfail(...) on the function, '' if it has none, None if not xfail."""
    for dec in fn.decorator_list:
        call = dec if isinstance(dec, ast.Call) else None
        target = call.func if call else dec
        if isinstance(target, ast.Attribute) and target.attr == "xfail":
            for kw in call.keywords if call else []:
                if kw.arg == "reason":
                    try:
                        return str(ast.literal_eval(kw.value))
                    except ValueError:
                        return ast.unparse(kw.value)
            return ""
    return None


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def collect() -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """Rows (fault, guarantee, test, status) and problems with the docstrings."""
    rows, problems = [], []
    paths = sorted(TESTS.glob("test_*.py"), key=lambda p: (ORDER.index(p.name) if p.name in ORDER else len(ORDER), p.name))
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        rel = path.relative_to(ROOT)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = ast.get_docstring(node) or ""
                where = f"{rel}::{node.name}"
                if not doc or "\n" in doc.strip() or SEP not in doc:
                    problems.append(f"{where}: docstring must be one line '<fault or input> -> <guarantee>'")
                    continue
                fault, guarantee = (part.strip() for part in doc.strip().split(SEP, 1))
                reason = _xfail_reason(node)
                status = "holds" if reason is None else f"**known bug**: {reason}" if reason else "**known bug**"
                rows.append((fault, guarantee, where, status))
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "COVERED_ELSEWHERE"
                                                      for t in node.targets):
                for where, doc in ast.literal_eval(node.value):
                    fault, guarantee = (part.strip() for part in doc.split(SEP, 1))
                    rows.append((fault, guarantee, where, "holds (tested outside tests/reliability)"))
    return rows, problems


def table(rows) -> str:
    lines = ["| Fault or bad input | Guaranteed | Test | Status |", "|---|---|---|---|"]
    lines += [f"| {_cell(f)} | {_cell(g)} | `{_cell(w)}` | {_cell(s)} |" for f, g, w, s in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    rows, problems = collect()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if "--check" not in argv:
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
