"""The engine is pure: no HTTP libraries, connectors, state store, I/O or clock reads."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "fiveo_sync" / "engine"
FORBIDDEN_MODULES = ("requests", "pysnow", "jira", "connectors", "fiveo_sync.state",
                     "urllib", "http", "socket", "sqlite3", "subprocess", "os", "shutil",
                     "pathlib", "io", "time", "logging", "structlog")
FORBIDDEN_CALLS = {"open", "eval", "exec", "compile", "input", "print"}
CLOCK_ATTRS = {"now", "utcnow", "today", "time"}
# Loader-side modules that read files belong beside the engine, not inside its pure core.
PURE = ("result", "spec", "filters", "measures", "stats", "periods", "status", "scope",
        "outcome", "placement", "engine", "series", "derived")


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES):
                found.append(f"{path.name}:{node.lineno}: imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno}: calls {func.id}()")
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_ATTRS and \
                    isinstance(func.value, (ast.Name, ast.Attribute)):
                owner = func.value.id if isinstance(func.value, ast.Name) else func.value.attr
                if owner in ("datetime", "date", "time"):
                    found.append(f"{path.name}:{node.lineno}: reads the clock")
    return found


def test_engine_core_is_pure():
    problems = []
    for name in PURE:
        problems.extend(_violations(ENGINE / f"{name}.py"))
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import requests\nfrom datetime import datetime\nx = datetime.now()\n"
                   "open('f')\n")
    assert len(_violations(bad)) == 3
