"""The round's public order: drawn by the engine for every round, the same for the night and
the day of one number, announced to every seat, and the tie-break of the heuristic (so a
model taught by it could see why the town votes whom it votes)."""

from __future__ import annotations

import pytest

from mafia.config import make_rules
from mafia.engine import Engine, run_game
from mafia.enums import Phase
from mafia.events import PhaseStarted
from mafia.rules import round_order

from mafia.agents.heuristic import HeuristicPlayer


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
