"""Small closed vocabularies: roles, teams, phases, channels, decision kinds."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """`enum.StrEnum` for Python 3.10: members compare and serialise as their value."""

    def __str__(self) -> str:
        return self.value


class Team(StrEnum):
    TOWN = "town"
    MAFIA = "mafia"


class Role(StrEnum):
    VILLAGER = "villager"
    MAFIA = "mafia"
    DOCTOR = "doctor"
    DETECTIVE = "detective"

    @property
    def team(self) -> Team:
        return Team.MAFIA if self is Role.MAFIA else Team.TOWN


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
    DAY_ACTION = "day_action"  # wait / say (public) / dm someone, plus text
    VOTE = "vote"  # choose another living player (or abstain when allowed)
    BID = "bid"  # `bidding` discussion: how urgently to take the floor, "0" (not) to "4"
    LAST_WORDS = "last_words"  # free text before an eliminated player dies


class Winner(StrEnum):
    TOWN = "town"
    MAFIA = "mafia"
    DRAW = "draw"
