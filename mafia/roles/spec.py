"""What a role is, as data: its side, its night power, what a check shows, how it wins.

The engine, the rules functions, the players and the reports read these fields; none of them
lists roles by hand. A role is one module in this package that defines `SPEC` (see
`registry.py`); its prose for people and models lives in `prompts/roles.toml`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# Night powers, asked in this order each night (the order is part of the seeded schedule):
#   team_kill    the mafia-side seats name a victim together (plurality, seeded tie-break)
#   protect      save one living player from every kill that night
#   investigate  learn another living player's team (or role), as that player appears
#   shoot        kill one other living player, or hold fire ("abstain")
NightPower = Literal["team_kill", "protect", "investigate", "shoot"]
NIGHT_ORDER: tuple[NightPower, ...] = ("team_kill", "protect", "investigate", "shoot")
# The decision kind (mafia.enums.DecisionKind value) each power asks for.
NIGHT_DECISION = {"team_kill": "kill", "protect": "protect", "investigate": "investigate",
                  "shoot": "shoot"}

# The sides the win check knows. A role with its own win condition has its own side, named
# after it, and wins alone (see `wins_when_voted_out`).
TOWN, MAFIA = "town", "mafia"


def _none(players: int) -> int:
    return 0


@dataclass(frozen=True)
class RoleSpec:
    name: str  # as written in --roles, rules files, transcripts and prompts
    side: str  # "town", "mafia", or the role's own side
    deal_order: int  # place in the fixed role list the deal shuffles (lower first)
    plural: str  # "2 villagers"
    night: NightPower | None = None
    shots: int | None = None  # uses of the night power per game; None: every night
    appears_as: str | None = None  # the role a check shows; None: the role itself
    wins_when_voted_out: bool = False  # wins alone, and the game ends, when voted out
    default_count: Callable[[int], int] = _none  # players -> count when --roles is silent

    @property
    def knows_team(self) -> bool:
        """The mafia side knows each other, talks at night and kills together."""
        return self.side == MAFIA

    @property
    def night_decision(self) -> str | None:
        return NIGHT_DECISION[self.night] if self.night else None

    @property
    def own_side(self) -> bool:
        return self.side not in (TOWN, MAFIA)
