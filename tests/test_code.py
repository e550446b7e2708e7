"""The code stays as the team wants it: small modules and functions (issue 13)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "territoire"


def test_no_module_over_500_lines_and_no_function_over_80():
    too_long = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 500:
            too_long.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > 80:
                    too_long.append(f"{path.name}:{node.name}: {size} lines")
    assert too_long == []
