"""Arrows run one way: the product imports no test or bench code, the page cache
knows no app, models know no cache, the project package names no app but in its
settings and URLconf, an app borrows nothing from another's views, and no import
(lazy ones inside functions included) comes back round to where it started, but
between an app's services and its own tasks."""

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
    cache_code = ("newsroom.pagecache", "django_redis", "django.core.cache", "articles.cachetags")
    assert not {name for name in names if name.startswith(cache_code)}
    assert not reachable(graph(), "articles.models") & {
        m for m in product_modules() if m.startswith(cache_code)
    }


def test_no_import_cycle_through_the_page_cache_or_the_articles_app():
    edges = graph()
    for module in edges:
        if module.startswith(("newsroom.pagecache", "articles")):
            assert module not in reachable(edges, module), f"{module} imports itself round about"


def import_cycles(edges) -> list[set[str]]:
    """The groups of modules that import one another round about (Tarjan's strongly
    connected components with more than one module)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(group)

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_circle_but_an_apps_services_and_its_own_tasks():
    # services.py enqueues tasks, tasks.py calls services: the one circle allowed,
    # and only between the two modules of one app.
    apps = [*PRODUCT, "newsroom.edge"]  # the edge's purge outbox is an app of its own
    allowed = [{f"{app}.services", f"{app}.tasks"} for app in apps]
    cycles = import_cycles(graph())
    assert [cycle for cycle in cycles if cycle not in allowed] == []


def test_the_cycle_finder_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(edges) == [{"a", "b", "c"}]


def test_the_project_package_imports_no_app_but_in_settings_and_urls():
    """newsroom/ is what the apps share; only the URLconf (and settings, by name) puts
    the apps together. Counted through other modules too: reaching the URLconf counts."""
    apps = tuple(package for package in PRODUCT if package != "newsroom")
    composers = {"newsroom.settings", "newsroom.urls"}
    edges = graph()
    for module in edges:
        if module.split(".")[0] == "newsroom" and module not in composers:
            reached = {m for m in reachable(edges, module) if m.split(".")[0] in apps}
            assert not reached, f"{module} reaches {sorted(reached)}"


def test_an_app_uses_another_app_through_its_models_selectors_and_services_only():
    """Not its views, forms or admin: what apps share lives in the project package."""
    apps = [package for package in PRODUCT if package != "newsroom"]
    public = ("models", "selectors", "services")
    for module, targets in graph().items():
        app = module.split(".")[0]
        if app not in apps:
            continue
        sideways = set()
        for target in targets:
            other, _, rest = target.partition(".")
            if other in apps and other != app and rest.split(".")[0] not in public:
                sideways.add(target)
        assert not sideways, f"{module} imports {sorted(sideways)}"
