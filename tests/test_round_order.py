"""The round's public order: drawn by the engine for every round, the same for the night and
the day of one number, announced to every seat, and the tie-break of the heuristic (so a
model taught by it could see why the town votes whom it votes)."""

from __future__ import annotations

import re

import pytest

from mafia.config import make_rules
from mafia.engine import Engine, run_game
from mafia.enums import Phase
from mafia.events import PhaseStarted
from mafia.rules import round_order

from mafia.agents.heuristic import HeuristicPlayer
from mafia.agents.plain_player import PlainPlayer

from helpers import LegalBackend, run_checked


def test_the_round_order_is_a_seeded_shuffle_of_every_seat() -> None:
    seats = ("Alice", "Bob", "Carol", "Dave", "Eve")
    assert round_order(3, 1, seats) == round_order(3, 1, seats)
    assert all(sorted(round_order(s, d, seats)) == sorted(seats)
               for s in range(20) for d in range(1, 4))
    assert {round_order(s, 1, seats)[0] for s in range(60)} == set(seats)
    assert len({round_order(3, d, seats) for d in range(1, 6)}) > 1  # a new order each round


@pytest.mark.parametrize("first", ["night", "day"])
def test_every_round_is_announced_with_its_order(first: str) -> None:
    rules = make_rules(players=7, first_phase=first)
    for seed in range(6):
        engine = Engine(rules, seed, [HeuristicPlayer(seed, s) for s in range(7)])
        run_game(engine)
        starts = [e for e in engine.events if isinstance(e, PhaseStarted)]
        assert {e.phase for e in starts} == {Phase.NIGHT, Phase.DAY}
        for e in starts:  # the night and the day of one number share one draw
            assert e.order == round_order(seed, e.day, engine.state.seats)


STATE = re.compile(r"^Now: (\w+) (\d+)\. Alive, in this round's order: ([^.]+)\.", re.M)


async def test_a_plain_seat_reads_the_living_in_the_rounds_order() -> None:
    """The plain prompt's state line lists the living as the round's announced order has them
    (the order the teacher breaks ties by), not in seat order."""
    rules = make_rules(players=7)
    seen_orders: set[tuple[str, ...]] = set()
    for seed in range(3):
        backends = [LegalBackend() for _ in range(rules.players)]
        players = [PlainPlayer(b, seed=seed, seat=s) for s, b in enumerate(backends)]
        result, _ = await run_checked(rules, seed, players)
        seats = result.state.seats
        lines = [m for b in backends for p in b.prompts for m in STATE.findall(p)[-1:]]
        assert lines
        for phase, day, listed in lines:
            names = tuple(listed.split(", "))
            order = round_order(seed, int(day), seats)
            assert names == tuple(p for p in order if p in names), (phase, day, names)
            seen_orders.add(names)
    assert any(list(o) != sorted(o, key=list(seats).index) for o in seen_orders)
