"""The docs cannot drift from the code: the generated pages (rules, transcript fields, command
reference) are built from it, every rule has the description the rules page prints, and the
hand-written transcript table names exactly the event kinds the code writes. (`.ci/run` builds
the whole site with `mkdocs build --strict`.)"""

from __future__ import annotations

import importlib.util
import re

from mafia.config import Rules
from mafia.events import KINDS

from helpers import REPO


def _hook():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generated", REPO / "docs/hooks/generated.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_rule_is_described_and_in_the_generated_table() -> None:
    table = _hook().rules_table()
    for name, field in Rules.model_fields.items():
        assert field.description, f"Rules.{name} has no description for docs/rules.md"
        assert f"| `{name}` |" in table


def test_the_generated_pages_cover_every_event_and_command() -> None:
    hook = _hook()
    events = hook.events_tables()
    assert set(re.findall(r"^### `(\w+)`$", events, re.M)) == set(KINDS)
    cli = hook.cli_reference()
    for command in ("play", "replay", "sweep", "tournament", "report", "compare", "probe",
                    "models", "bench", "check", "train"):
        assert f"## `mafia {command}`" in cli
    page = hook.on_page_markdown("# x\n\n<!-- generated: rules -->\n")
    assert "| `players` |" in page and "generated:" not in page


def test_the_transcript_table_names_every_event_kind() -> None:
    text = (REPO / "docs" / "transcripts.md").read_text()
    rows = set(re.findall(r"^\| `(\w+)` \|", text.split("## Every event's fields")[0], re.M))
    assert rows == set(KINDS)


def test_every_page_in_the_docs_folder_is_in_the_nav() -> None:
    nav = (REPO / "mkdocs.yml").read_text()
    pages = {p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md")}
    assert pages and all(p in nav for p in pages), pages - {p for p in pages if p in nav}
