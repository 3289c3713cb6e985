"""Write a replay page: the template with its CSS, JS and the game's data inlined."""

from __future__ import annotations

import html
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

_ASSETS = files("mafia.web").joinpath("assets")


def page(doc: dict[str, Any], title: str) -> str:
    template = _ASSETS.joinpath("page.html").read_text("utf-8")
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    # Inside <script>, only "</" could end the element early; "<!--" could confuse parsers.
    data = data.replace("</", "<\\/").replace("<!--", "<\\!--")
    parts = {"{{CSS}}": _ASSETS.joinpath("page.css").read_text("utf-8"),
             "{{JS}}": _ASSETS.joinpath("page.js").read_text("utf-8"),
             "{{TITLE}}": html.escape(title)}
    for key, value in parts.items():
        template = template.replace(key, value)
    return template.replace("{{DATA}}", data)  # last: game text never meets a placeholder


def write_page(doc: dict[str, Any], title: str, path: Path) -> int:
    """Write the page; returns its size in bytes."""
    text = page(doc, title)
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))
