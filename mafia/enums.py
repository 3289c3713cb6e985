"""Small closed vocabularies: roles, teams, phases, channels, decision kinds."""

from __future__ import annotations

from enum import Enum

from mafia.roles.registry import SIDES, SPECS
from mafia.roles.spec import RoleSpec


class StrEnum(str, Enum):
    """`enum.StrEnum` for Python 3.10: members compare and serialise as their value."""

    def __str__(self) -> str:
        return self.value


class _SideBase(StrEnum):
    pass


class _RoleBase(StrEnum):
    @property
    def spec(self) -> RoleSpec:
        return _SPEC_OF[self.value]

    @property
    def team(self) -> "Team":
        """The role's side: town, mafia, or its own (the jester's)."""
        return Team(_SPEC_OF[self.value].side)


# Built from the role modules (mafia/roles/): TOWN, MAFIA, JESTER, ... and VILLAGER, MAFIA,
# DOCTOR, DETECTIVE, GODFATHER, VIGILANTE, JESTER, ... in deal order.
_SPEC_OF = {s.name: s for s in SPECS}
Team = _SideBase("Team", [(side.upper(), side) for side in SIDES], module=__name__)  # type: ignore[misc]
Role = _RoleBase("Role", [(s.name.upper(), s.name) for s in SPECS], module=__name__)  # type: ignore[misc]


# The option for abstaining from a vote (offered only when allow_abstain is on) and for a
# vigilante holding fire. Players import it from mafia.decisions.
ABSTAIN = "abstain"


class Phase(StrEnum):
    SETUP = "setup"
    NIGHT = "night"
    DAY = "day"
    END = "end"


class Channel(StrEnum):
    PUBLIC = "public"
    MAFIA = "mafia"
    DM = "dm"


class DecisionKind(StrEnum):
    """What the engine asks a player for; each request lists its legal options."""

    MAFIA_CHAT = "mafia_chat"  # free text in the mafia channel (empty = silent)
    KILL = "kill"  # choose a living non-mafia player
    PROTECT = "protect"  # doctor: choose a living player
    INVESTIGATE = "investigate"  # detective: choose another living player
    SHOOT = "shoot"  # vigilante: another living player, or "abstain" to hold fire
    DAY_ACTION = "day_action"  # wait / say (public) / dm someone, plus text
    VOTE = "vote"  # choose another living player (or abstain when allowed)
    BID = "bid"  # `bidding` discussion: how urgently to take the floor, "0" (not) to "4"
    LAST_WORDS = "last_words"  # free text before an eliminated player dies


# Who won: a side, or nobody when the day limit ends the game.
Winner = _SideBase("Winner", [(side.upper(), side) for side in SIDES] + [("DRAW", "draw")],
                   module=__name__)  # type: ignore[misc]
