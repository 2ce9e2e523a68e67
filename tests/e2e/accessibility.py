"""axe-core's checks of a page in the browser tests (tests/e2e/a11y: `make test` installs it
with npm; where it is missing the check warns and finds nothing, and the tests' other checks
still run)."""

import warnings
from pathlib import Path

AXE = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    """The page's WCAG 2.x A and AA violations (id, impact, the first nodes' selectors). The
    script is evaluated through the DevTools protocol, which the page's CSP does not govern:
    the page's own script policy stays strict."""
    if not AXE.exists():
        warnings.warn("axe-core not installed (npm ci --prefix tests/e2e/a11y)", stacklevel=2)
        return []
    page.evaluate(AXE.read_text())
    return page.evaluate(
        """async () => {
          const result = await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
          });
          return result.violations.map(v => ({
            id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
          }));
        }"""
    )
