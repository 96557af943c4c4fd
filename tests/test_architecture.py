"""The house rules of the code base (docs/architecture.md), checked: module and class sizes, no
private name imported across modules, every path the architecture page names exists, each page
function in one place, each validation rule keyed, and the rules stated once."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from conftest import ROOT

PACKAGE = ROOT / "R-free-core" / "metaprop"
PYTHON_TREES = [PACKAGE, ROOT / "tests", ROOT / "scripts", ROOT / "benchmarks", ROOT / "analysis"]


def _modules(trees=(PACKAGE,)):
    for tree in trees:
        yield from sorted(p for p in tree.rglob("*.py") if ".venv" not in p.parts)


def test_no_module_over_400_lines_and_no_class_over_150():
    too_long = []
    for path in _modules():
        src = path.read_text(encoding="utf-8")
        if len(src.splitlines()) > 400:
            too_long.append(f"{path.relative_to(ROOT)}: {len(src.splitlines())} lines")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 150:
                size = node.end_lineno - node.lineno + 1
                too_long.append(f"{path.relative_to(ROOT)}: class {node.name}, {size} lines")
    assert not too_long


def test_no_private_name_is_imported_across_modules():
    found = []
    for path in _modules(PYTHON_TREES):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found


def test_every_path_on_the_architecture_page_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w./-]+\.(?:py|md|qmd|js|csv))`", text))
    named |= {f"R-free-core/metaprop/{m}" for m in re.findall(r"\b((?:engine|review|site)/\w+\.py)\b", text)}
    assert len(named) > 30
    where = (ROOT, ROOT / "tests", PACKAGE, ROOT / "data")
    missing = sorted(p for p in named if not any((base / p).exists() for base in where))
    assert not missing


def test_each_page_function_is_in_one_module_and_takes_the_build_first():
    from metaprop.site.pages import PAGE_MODULES

    seen: dict[str, str] = {}
    for module in PAGE_MODULES:
        for name in module.PAGE:
            assert name not in seen, f"{name} in {seen.get(name)} and {module.__name__}"
            seen[name] = module.__name__
            params = list(inspect.signature(getattr(module, name)).parameters)
            assert params and params[0] == "build", f"{module.__name__}.{name}"
    assert len(seen) > 50


def test_every_domain_rule_is_a_function_keyed_by_its_name():
    from metaprop.review.rules import DOMAIN_RULES, RULES

    assert set(RULES) | {"version_semver"} == set(DOMAIN_RULES)
    assert all(callable(f) and f.__name__ == f"rule_{name}" for name, f in RULES.items())


@pytest.mark.parametrize(("pattern", "home"), [
    (r"convention\s*[!=]=|conv\.name\s*[!=]=", "engine/conventions.py"),  # every difference is a Convention field
    (r"np\.all\(x == n\)|np\.all\(x == 0\)", "engine/measures.py"),       # all_extreme(), once
    (r"\"IV-logit-HK\":\s*\{|\"PFT\":\s*\{", "review/protocol.py"),       # the registry of methods
    (r"\"weaned\", \"discharged_alive\", \"alive_12mo\"", "review/protocol.py"),  # HOME_OUTCOMES
])
def test_each_rule_is_stated_in_one_place(pattern, home):
    hits = [str(p.relative_to(PACKAGE)) for p in _modules() if re.search(pattern, p.read_text(encoding="utf-8"))]
    hits += [str(p.relative_to(ROOT)) for p in [ROOT / "analysis" / "simulation" / "coverage.py", ROOT / "index.qmd",
                                                 *sorted((ROOT / "analysis").glob("*.qmd"))]
             if re.search(pattern, p.read_text(encoding="utf-8"))]
    assert set(hits) <= {home}, hits


def test_pages_only_load_the_site():
    """Pages are thin: every number comes through S = load_site("data"); no page imports the
    engine or the protocol."""
    for page in [ROOT / "index.qmd", *sorted((ROOT / "analysis").glob("*.qmd"))]:
        imports = re.findall(r"^\s*(?:from|import) (metaprop[\w.]*)", page.read_text(encoding="utf-8"), re.M)
        assert set(imports) <= {"metaprop.pipeline", "metaprop.site.citation"}, (page.name, imports)
