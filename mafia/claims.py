"""A small, documented detector of claims in chat: role claims and accusations.

It reads one message and returns what it asserts about players' roles or teams. It is meant
for figures (how often mafia lie, how often town accusations are right) and for the heuristic
player's reading of the table, so it errs on the side of missing a claim rather than inventing
one. Patterns (case-insensitive, NAME a seat name, ROLE a role word):

- role claim, about the speaker: "I am (the|a) ROLE", "I'm (the|a) ROLE", "as (the) ROLE";
  "I am not mafia" / "I am town" claim the town team.
- accusation, about NAME: "NAME is (the|a) mafia", "NAME is lying", "NAME is a liar",
  "NAME is suspicious", "I suspect NAME", "vote (for|out) NAME", "NAME is sus".
- clearing, about NAME: "NAME is town", "NAME is (a|the) villager|doctor|detective",
  "NAME is innocent", "NAME is not mafia", "I trust NAME".
- a finding: "I investigated NAME" / "I checked NAME" followed in the same sentence by
  mafia or town (e.g. "I checked Carol: mafia"); `detect_findings` returns these alone.

What it misses: irony, questions ("is Carol mafia?" is skipped), hedges that do not use these
words ("Carol seems off"), pronouns ("she is mafia"), misspelt names, and claims spread over
two messages. A negation is recognised only right after "is" ("Carol is not mafia").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from dataclasses import dataclass
from typing import Literal

from mafia.enums import Role, Team

ROLE_WORDS: dict[str, str] = {
    "mafia": "mafia", "mafioso": "mafia", "detective": "detective", "cop": "detective",
    "doctor": "doctor", "medic": "doctor", "villager": "villager", "town": "town",
    "innocent": "town", "townie": "town",
}
_ROLE = "|".join(sorted(ROLE_WORDS, key=len, reverse=True))
_ART = r"(?:the |a |an )?"
_SELF = re.compile(rf"\b(?:i am|i'm|im|as)\s+(not\s+)?{_ART}({_ROLE})\b", re.I)


@dataclass(frozen=True)
class Claim:
    """`speaker` asserts that `subject` is `value` (a role, or a team: "mafia"/"town").

    kind: "role" (the speaker about themself), "accuse" (subject is mafia), "clear" (subject
    is town, or a town role)."""

    kind: Literal["role", "accuse", "clear"]
    speaker: str
    subject: str
    value: str

    def true_for(self, roles: dict[str, Role]) -> bool:
        """Whether the claim matches the real roles (a team claim matches any role of it)."""
        real = roles.get(self.subject)
        if real is None:
            return False
        if self.value in (Team.MAFIA.value, Team.TOWN.value):
            return real.team.value == self.value
        return real.value == self.value


@lru_cache(maxsize=64)
def _about(name: str) -> tuple[tuple[re.Pattern[str], str | None], ...]:
    """Patterns about one player; the value None means 'take the role word matched'."""
    n = re.escape(name)
    return (
        (re.compile(rf"\b{n}\s+is\s+not\s+{_ART}(?:mafia|mafioso)\b", re.I), "town"),
        (re.compile(rf"\b{n}\s+(?:is|'s)\s+{_ART}({_ROLE})\b", re.I), None),
        (re.compile(rf"\b{n}\s+(?:is|'s)\s+(?:lying|a liar|suspicious|sus)\b", re.I), "mafia"),
        (re.compile(rf"\b(?:i suspect|vote for|vote out|voting for|eliminate)\s+{n}\b", re.I),
         "mafia"),
        (re.compile(rf"\bi trust\s+{n}\b", re.I), "town"),
        (_finding(name), None),
    )


@lru_cache(maxsize=64)
def _finding(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(rf"\b(?:investigated|checked)\s+{n}\b[^.!?]*?\b(mafia|town|innocent)\b",
                      re.I)


def _statements(text: str) -> list[str]:
    """The sentences of a message that can claim something (questions are skipped)."""
    return [s for s in re.split(r"(?<=[.!;])\s+", text) if not s.rstrip().endswith("?")]


def detect_claims(text: str, speaker: str, seats: Sequence[str]) -> list[Claim]:
    """Every claim in one message, at most one per subject (the first that matches)."""
    out: list[Claim] = []
    for sentence in _statements(text):
        m = _SELF.search(sentence)
        if m and not any(c.subject == speaker for c in out):
            value = ROLE_WORDS[m.group(2).lower()]
            if m.group(1):  # "I am not mafia"
                value = "town" if value == "mafia" else ""
            if value:
                out.append(Claim("role", speaker, speaker, value))
        for name in seats:
            if name == speaker or any(c.subject == name for c in out):
                continue
            for pattern, fixed in _about(name):
                hit = pattern.search(sentence)
                if hit:
                    value = fixed or ROLE_WORDS[hit.group(1).lower()]
                    kind = "accuse" if value == "mafia" else "clear"
                    out.append(Claim(kind, speaker, name, value))
                    break
    return out


def detect_findings(text: str, speaker: str, seats: Sequence[str]) -> list[Claim]:
    """The claims of one message that report a check ("I checked Carol: mafia"): the
    finding pattern alone, so a reader can tell a claimed check from other accusations."""
    out: list[Claim] = []
    for sentence in _statements(text):
        for name in seats:
            hit = _finding(name).search(sentence)
            if name != speaker and hit and not any(c.subject == name for c in out):
                value = ROLE_WORDS[hit.group(1).lower()]
                out.append(Claim("accuse" if value == "mafia" else "clear", speaker, name, value))
    return out
