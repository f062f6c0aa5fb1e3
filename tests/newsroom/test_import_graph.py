"""Arrows run one way: the product imports no test or bench code, the page cache
knows no app, models know no cache, and no import (lazy ones inside functions
included) comes back round to where it started."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("newsroom", "articles", "contact")


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every name ``module`` imports, anywhere in it, made absolute."""
    names = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def graph() -> dict[str, set[str]]:
    """Product module -> the product modules it imports."""
    modules = product_modules()
    edges = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            # ``from articles import views`` names a module; ``from .models import Article``
            # names something in one: the module is the longest prefix that is a file.
            while name not in modules and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in modules and name != module:
                targets.add(name)
        edges[module] = targets
    return edges


def reachable(edges, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_product_imports_no_test_or_bench_code():
    outside = ("tests", "bench", "harness")
    for module, path in product_modules().items():
        names = {name for name in imported_names(module, path) if name.split(".")[0] in outside}
        assert not names, f"{module} imports {sorted(names)}"


def test_the_page_cache_imports_no_app():
    edges = graph()
    for module in edges:
        if module.startswith("newsroom.pagecache"):
            apps = {
                m for m in reachable(edges, module) if m.split(".")[0] in ("articles", "contact")
            }
            assert not apps, f"{module} reaches {sorted(apps)}"


def test_article_models_import_no_cache_code():
    names = imported_names("articles.models", ROOT / "articles" / "models.py")
    cache_code = ("newsroom.pagecache", "newsroom.cache", "django.core.cache", "articles.cachetags")
    assert not {name for name in names if name.startswith(cache_code)}
    assert not reachable(graph(), "articles.models") & {
        m for m in product_modules() if m.startswith(cache_code)
    }


def test_no_import_cycle_through_the_page_cache_or_the_articles_app():
    edges = graph()
    for module in edges:
        if module.startswith(("newsroom.pagecache", "newsroom.cache", "articles")):
            assert module not in reachable(edges, module), f"{module} imports itself round about"
