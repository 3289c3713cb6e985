"""Pure rule functions: tallies, ties, night resolution, win checks, legal targets.

Nothing here touches the event log or a player; randomness comes in as an explicit generator.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from mafia.config import SEAT_NAMES, Rules
from mafia.enums import ABSTAIN, Role, Winner


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


# The salt of the round order's draw. It was the heuristic's private "focal order" before 0.4.7
# and keeps that name so the draw (and so the heuristic's play) is unchanged.
_ORDER_SALT = "heuristic-focal"


def round_order(seed: int, day: int, seats: Sequence[str]) -> tuple[str, ...]:
    """The public order of round `day` (its night and the day after it): every seat, shuffled
    by a generator of its own, so drawing it moves nothing else in the game. Players may use
    it as a shared tie-break (the heuristic does where the evidence ties)."""
    rng = random.Random(f"{_ORDER_SALT}:{seed}:{day}")
    return tuple(rng.sample(list(seats), len(seats)))


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


def night_deaths(kills: Iterable[str | None], protected: Collection[str],
                 seats: Sequence[str]) -> list[str]:
    """Everyone killed in the night (the mafia's target, a vigilante's shot) and not
    protected, once each, in seat order (so the order of the announcements is no clue)."""
    dead = {k for k in kills if k is not None and k not in protected}
    return [p for p in seats if p in dead]


def winner(roles: Mapping[str, Role], alive: Iterable[str]) -> Winner | None:
    """Town wins when no mafia-side player lives; the mafia win when they are at least as
    many as everyone else (town and own-side roles such as the jester)."""
    mafia = rest = 0
    for name in alive:
        if roles[name].spec.knows_team:
            mafia += 1
        else:
            rest += 1
    if mafia == 0:
        return Winner.TOWN
    if mafia >= rest:
        return Winner.MAFIA
    return None


def vote_winner(role: Role) -> Winner | None:
    """A role that wins by being voted out (the jester) wins alone when it is."""
    return Winner(role.spec.side) if role.spec.wins_when_voted_out else None


def mafia_side(roles: Mapping[str, Role], names: Iterable[str]) -> list[str]:
    """The players among `names` who know each other and kill together."""
    return [p for p in names if roles[p].spec.knows_team]


def kill_options(roles: Mapping[str, Role], alive: Sequence[str]) -> tuple[str, ...]:
    return tuple(p for p in alive if not roles[p].spec.knows_team)


def shoot_options(shooter: str, alive: Sequence[str]) -> tuple[str, ...]:
    """Any other living player, or hold fire (ABSTAIN, offered last as in a vote)."""
    return others(shooter, alive) + (ABSTAIN,)


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
    """What a check shows: the role the target appears as (a godfather appears as a
    villager), or that role's team."""
    shown = Role(role.spec.appears_as) if role.spec.appears_as else role
    return shown.value if learns == "role" else shown.team.value


def revealed_identity(role: Role, reveal: str) -> dict[str, str]:
    """The fields a death announcement carries under `reveal_on_death`."""
    if reveal == "role":
        return {"role": role.value, "team": role.team.value}
    if reveal == "team":
        return {"team": role.team.value}
    return {}
