"""Pure rule functions: tallies, ties, night resolution, win checks, legal targets.

Nothing here touches the event log or a player; randomness comes in as an explicit generator.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from mafia.config import SEAT_NAMES, Rules
from mafia.enums import Role, Team, Winner


def deal(rules: Rules, rng: random.Random) -> dict[str, Role]:
    """Seat name -> role: the rules' role list shuffled by `rng`. The engine calls this as
    the first use of its game generator, random.Random(seed)."""
    roles = rules.role_list()
    rng.shuffle(roles)
    return dict(zip(SEAT_NAMES[: rules.players], roles))


def deal_roles(rules: Rules, seed: int) -> dict[str, Role]:
    """The roles a game with this seed deals, known before any player exists (team sweeps
    build each seat's player from its role)."""
    return deal(rules, random.Random(seed))


@dataclass(frozen=True)
class Tally:
    counts: dict[str, int]  # target -> votes, in first-vote order
    leaders: tuple[str, ...]  # targets with the most votes (several on a tie)

    @property
    def tie(self) -> bool:
        return len(self.leaders) > 1


def tally(choices: Iterable[str | None]) -> Tally:
    """Count choices (None = abstain, not counted) and find the plurality leaders."""
    counts = Counter(c for c in choices if c is not None)
    if not counts:
        return Tally({}, ())
    top = max(counts.values())
    leaders = tuple(sorted(name for name, n in counts.items() if n == top))
    return Tally(dict(counts), leaders)


def break_tie(t: Tally, policy: str, rng: random.Random) -> str | None:
    """The plurality winner; a tie goes to a seeded draw ('random') or to nobody ('none')."""
    if not t.leaders:
        return None
    if not t.tie:
        return t.leaders[0]
    if policy == "none":
        return None
    return rng.choice(t.leaders)


def resolve_night(kill_target: str | None, protected: Collection[str]) -> str | None:
    """Who dies at dawn: the mafia's target unless a doctor protected them."""
    if kill_target is None or kill_target in protected:
        return None
    return kill_target


def winner(roles: Mapping[str, Role], alive: Iterable[str]) -> Winner | None:
    """Town wins when no mafia lives; mafia wins when they are at least as many as the rest."""
    mafia = town = 0
    for name in alive:
        if roles[name].team is Team.MAFIA:
            mafia += 1
        else:
            town += 1
    if mafia == 0:
        return Winner.TOWN
    if mafia >= town:
        return Winner.MAFIA
    return None


def kill_options(roles: Mapping[str, Role], alive: Sequence[str]) -> tuple[str, ...]:
    return tuple(p for p in alive if roles[p] is not Role.MAFIA)


def protect_options(
    doctor: str,
    alive: Sequence[str],
    last_protected: str | None,
    self_save: bool,
    repeat_save: bool,
) -> tuple[str, ...]:
    options = tuple(
        p
        for p in alive
        if (self_save or p != doctor) and (repeat_save or p != last_protected)
    )
    # Never leave the doctor without a choice (e.g. 2 alive, no self save, repeat banned).
    return options or tuple(p for p in alive if p != doctor) or tuple(alive)


def others(player: str, alive: Sequence[str]) -> tuple[str, ...]:
    return tuple(p for p in alive if p != player)


def investigation_result(role: Role, learns: str) -> str:
    return role.value if learns == "role" else role.team.value


def revealed_identity(role: Role, reveal: str) -> dict[str, str]:
    """The fields a death announcement carries under `reveal_on_death`."""
    if reveal == "role":
        return {"role": role.value, "team": role.team.value}
    if reveal == "team":
        return {"team": role.team.value}
    return {}
