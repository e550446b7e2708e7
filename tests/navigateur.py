"""Browser test harness: the system Chromium driven by Playwright, network off.

Every map test opens pages through :class:`Navigateur`. A page is opened from
a file with every request that is not ``file:`` or ``data:`` refused and
recorded; JavaScript errors, dialogs (``alert``...) and console messages are
recorded; a trap tells whether any script of the page set ``window.__pwned``
(the hostile payloads of the tests try to). Playwright drives the browser
Debian ships (``apt-get install chromium``): nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: CI installs Chromium and sets this: there, a missing browser is a failure, not a skip.
REQUIRED = bool(os.environ.get("TERRITOIRE_NAVIGATEUR_REQUIS"))

#: Set before any script of the page runs: a payload that executes sets the flag.
_TRAP = """
window.__scriptsHostiles = [];
Object.defineProperty(window, '__pwned', {
  configurable: false,
  set: function (v) { window.__scriptsHostiles.push(String(v)); },
  get: function () { return undefined; }
});
"""


@dataclass
class Page:
    """An opened page and what happened while it ran."""

    page: Any
    erreurs: list[str] = field(default_factory=list)
    requetes_externes: list[str] = field(default_factory=list)
    dialogues: list[str] = field(default_factory=list)

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def scripts_hostiles(self) -> list[str]:
        """Values a hostile payload managed to set (empty when nothing ran)."""
        return list(self.evaluate("window.__scriptsHostiles")) + self.dialogues

    def screenshot(self, path: Path) -> Path:
        self.page.screenshot(path=str(path))
        return path


class Navigateur:
    """One headless Chromium for the session; :meth:`ouvrir` opens a page in a fresh context."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser

    def ouvrir(self, path: Path, width: int = 1280, height: int = 720, wait_ms: int = 500) -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        context.add_init_script(_TRAP)
        page = context.new_page()
        result = Page(page)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                r.continue_()
            else:
                result.requetes_externes.append(url)
                r.abort()

        context.route("**/*", route)
        page.on("pageerror", lambda exc: result.erreurs.append(str(exc)))
        page.on("console", lambda msg: result.erreurs.append(msg.text) if msg.type == "error" else None)

        def dialog(d: Any) -> None:
            result.dialogues.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(wait_ms)
        return result


def _launch() -> Iterator[Navigateur | None]:
    if CHROMIUM is None:
        if REQUIRED:
            raise RuntimeError("Chromium est requis pour les tests de carte (apt-get install chromium).")
        yield None
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  # Belt and braces: whatever the route handler lets through goes to a closed port.
                  "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"])
        try:
            yield Navigateur(browser)
        finally:
            browser.close()


@pytest.fixture(scope="session")
def navigateur() -> Iterator[Navigateur]:
    """The session's browser; tests using it are skipped where Chromium is absent (never in CI)."""
    for nav in _launch():
        if nav is None:
            pytest.skip("chromium absent (installé par .ci/run)")
        yield nav


#: JavaScript: what the map draws (communes, CPTS, numbers and names shown, names that overlap another).
ETAT_CARTE = """
() => {
  const c = window.territoireCarte, kinds = {commune: new Set(), cpts: new Set()};
  c.map.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (p && kinds[p.kind]) { kinds[p.kind].add(p.code || p.cpts); }
  });
  const visible = sel => Array.from(document.querySelectorAll(sel)).filter(n => n.style.visibility === 'visible');
  const boxes = visible('.cpts-nom').map(n => n.getBoundingClientRect());
  let clash = 0;
  boxes.forEach((r, i) => boxes.slice(i + 1).forEach(p => {
    if (r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top) { clash += 1; }
  }));
  return {communes: kinds.commune.size, cpts: kinds.cpts.size, noms: boxes.length, noms_chevauchants: clash,
          numeros: visible('.cpts-numero').map(n => n.textContent),
          zones: visible('.zone-nom').map(n => n.textContent),
          textes_noms: Array.from(document.querySelectorAll('.cpts-ligne .nom')).map(n => n.textContent)};
}
"""

#: JavaScript: the screen point of a [lat, lon], for hover and click.
POINT_ECRAN = """
([lat, lon]) => {
  const c = window.territoireCarte;
  c.map.panTo([lat, lon], {animate: false});  // in view, away from the title and legend boxes
  const p = c.map.latLngToContainerPoint([lat, lon]);
  const rect = c.map.getContainer().getBoundingClientRect();
  return {x: p.x + rect.left, y: p.y + rect.top};
}
"""


def point_commune(code: str) -> tuple[float, float]:
    """A [lat, lon] well inside a commune of the reference (its point on surface)."""
    import shapely

    from territoire import reference

    p = shapely.point_on_surface(reference.units().loc[code].geometry)
    return (p.y, p.x)


def survoler(page: Page, code: str) -> str:
    """Hover the commune ``code``; the text of the tooltip shown."""
    pt = page.evaluate(POINT_ECRAN, list(point_commune(code)))
    page.page.wait_for_timeout(100)  # the canvas redraws after the pan
    page.page.mouse.move(pt["x"] - 1, pt["y"] - 1)
    page.page.mouse.move(pt["x"], pt["y"], steps=3)
    page.page.wait_for_timeout(150)
    return page.evaluate("() => { const t = document.querySelectorAll('.leaflet-tooltip');"
                         " return t.length ? t[t.length - 1].textContent : ''; }")


def cliquer(page: Page, code: str) -> str:
    """Click inside the commune ``code``; the text of the popup opened."""
    pt = page.evaluate(POINT_ECRAN, list(point_commune(code)))
    page.page.wait_for_timeout(100)
    page.page.mouse.click(pt["x"], pt["y"])
    page.page.wait_for_timeout(400)  # the popup may pan the map: let the animation end
    text = page.evaluate("() => { const t = document.querySelectorAll('.leaflet-popup-content');"
                         " return t.length ? t[t.length - 1].textContent : ''; }")
    page.evaluate("() => { window.territoireCarte.map.closePopup(); }")
    page.page.wait_for_timeout(300)  # fade-out: the closing popup still catches the mouse
    return text
