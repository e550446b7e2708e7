"""Screenshots at 1280×720 of map pages, as a projector shows them (headless system Chromium, network off).

Usage: python3 scripts/captures.py maps/essonne_2019_analyse.html [...]  (writes NAME_1280x720.png next to each)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(paths: list[str]) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        for name in paths:
            path = Path(name).resolve()
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                          else r.abort())
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(path.with_name(path.stem + "_1280x720.png")))
            context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
