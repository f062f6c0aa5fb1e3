"""axe-core in the browser: a page fails on any critical or serious accessibility
violation, each listed with its rule, impact and the elements concerned.

axe-core (the npm package's ``axe.min.js``, 4.12.1) comes inside the PyPI package
``axe-playwright-python`` (a dev dependency): nothing is fetched at run time. The
script is put into the page with Playwright, which is not subject to the page's
Content-Security-Policy. axe's ``preload`` step is off: it re-reads the page's style
sheets by adding ``<style>`` elements of its own, which the policy (rightly) blocks,
and it serves only a rule about screen orientation.
"""

from functools import cache
from pathlib import Path

import axe_playwright_python

FAILING_IMPACTS = ("critical", "serious")
OPTIONS = {"resultTypes": ["violations"], "preload": False}


@cache
def axe_source() -> str:
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def violations(page, *, exclude=()) -> list[dict]:
    """axe-core's critical and serious violations on ``page`` as it is now.

    ``exclude``: CSS selectors of parts of the page to leave out, each with the
    reason at the call.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    results = page.evaluate(
        "([context, options]) => context ? axe.run(context, options) : axe.run(document, options)",
        [context, OPTIONS],
    )
    return [
        violation for violation in results["violations"] if violation["impact"] in FAILING_IMPACTS
    ]


def report(found: list[dict]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
    return "\n".join(lines)


def assert_accessible(page, *, exclude=()) -> None:
    """Fail, listing every critical and serious violation (rule, impact, elements)."""
    found = violations(page, exclude=exclude)
    assert not found, f"axe-core on {page.url}:\n{report(found)}"
