"""The heuristic player's lines: a small table of templates for the people (and players) at
the table. Every line that carries information is one the claim detector (mafia.claims)
reads back, so heuristic players understand each other and the figures count them."""

from __future__ import annotations

from collections.abc import Iterable

LINES: dict[str, str] = {
    "detective": "I am the detective.",
    "doctor": "I am the doctor.",
    "mafia": "{name} is mafia.",
    "town": "{name} is town.",
    "liar": "{name} is lying.",
    "suspect": "I suspect {name}.",
    "trust": "I trust {name}.",
    "lean": "Nothing to go on yet, so my vote goes to {name}.",
    "innocent": "I am not mafia.",
    "quiet": "No leads yet. Detective, speak up when you know something.",
    "careful": "Let us not rush. Who has been quiet?",
    "kill": "Kill {name}.",
    "agree": "Agreed. Kill {name}.",
}

Line = tuple[str, str]  # (template key, player named or "")


def line(key: str, name: str = "") -> Line:
    return key, name


def join(lines: Iterable[Line]) -> str:
    """Lines as one message; a second line about a player already named is dropped (no
    "Carol is lying. Carol is mafia.")."""
    out: list[str] = []
    named: set[str] = set()
    for key, name in lines:
        if name and name in named:
            continue
        named.add(name)
        out.append(LINES[key].format(name=name))
    return " ".join(out)
