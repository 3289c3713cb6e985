"""Whether what players say fits the game: names of people not at the table, living players
called dead, a detective's report that contradicts its own check, and mafia-channel proposals
to kill a player who is already dead. Pure functions over one message and the facts at the
moment it was said; `mafia.report.speech` counts them per model spec.

Definitions (docs/reports.md quotes them):
- *absent name*: a capitalised word that is a seat name of this project (Alice ... Sybil) or
  a common given name (GIVEN_NAMES) and is not a seat of this game.
- *called dead*: "NAME is dead", "NAME was killed", "NAME died", "NAME has been killed",
  "NAME was eliminated", "NAME was voted out", "dead NAME" with NAME alive when it was said.
- *detective report*: a message by the seat dealt the detective role that the claim detector
  reads as a check ("I checked Carol: mafia"; `mafia.claims.detect_findings`) about a player
  it had checked by then; it *contradicts* when the team said is not the team it learnt.
- *kill proposal*: a mafia-channel message with "kill", "killing", "eliminate" or "target"
  followed by a seat name; *of a dead player* when that seat was dead when it was said.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache

from mafia.config import SEAT_NAMES

# Common given names (English-language first names and the example names tiny models copy
# from prompts), kept short on purpose: a word must be on this list to count as a name.
GIVEN_NAMES = frozenset("""
Aaron Abby Adam Alex Alan Amy Andy Anna Anne Ben Beth Bob Brad Brian Carl Chris Claire
Dan Daniel David Diana Emma Eric Ella Emily Fred Gary George Greg Hannah Harry Helen Henry
Ian Jack Jake James Jane Jason Jen Jenny Jill Jim Joe John Jon Josh Julia Kate Kelly Ken
Kevin Kim Laura Lea Leo Lily Lisa Liz Lucy Luke Mary Matt Max Mia Mike Molly Nancy
Nick Noah Nora Oscar Paul Pete Peter Phil Rachel Ray Rob Ruth Ryan Sam Sara
Sarah Sean Steve Sue Susan Ted Tim Tina Tom Tony Zoe Jerry Lena Linda Oliver Jacob Sophia
Anna Luna Ethan Mason Logan Lucas Liam Ava Chloe Grace Jessica Ashley Amanda Nicole Megan
""".split())
_CAP = re.compile(r"\b[A-Z][a-z]+\b")
_DEAD = r"(?:is dead|was killed|has been killed|got killed|died|has died|was eliminated|was voted out)"
_PROPOSE = re.compile(r"\b(?:kill|killing|eliminate|target)\s+([A-Z][a-z]+)\b", re.I)


def absent_names(text: str, seats: Collection[str]) -> set[str]:
    """Names in `text` of people not at this table."""
    known = GIVEN_NAMES | set(SEAT_NAMES)
    return {w for w in _CAP.findall(text) if w in known and w not in seats}


@lru_cache(maxsize=64)
def _dead_pattern(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(rf"\b{n}\s+{_DEAD}\b|\bdead\s+{n}\b", re.I)


def called_dead(text: str, alive: Iterable[str]) -> set[str]:
    """Living players that `text` says are dead."""
    return {n for n in alive if _dead_pattern(n).search(text)}


def kill_proposal(text: str, seats: Collection[str]) -> str | None:
    """The seat a mafia-chat message proposes to kill, if it names one."""
    for m in _PROPOSE.finditer(text):
        name = m.group(1).capitalize()
        if name in seats:
            return name
    return None
