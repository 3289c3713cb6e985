"""Building the players of a game from its specs, one per seat (specs are cycled over the
seats): baselines and programs here, model seats through `mafia.agents.model_seats`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mafia.decisions import Player

from mafia.agents.heuristic import HeuristicPlayer
from mafia.agents.program import build_program_player, check_log_path, is_program_spec
from mafia.agents.random_player import RandomPlayer
from mafia.agents.specs import BASELINES, ModelOptions


def build_players(
    specs: Sequence[str], n: int, seed: int, options: ModelOptions = ModelOptions(),
    block: Any = None, slot: int = 0,
) -> list[Player]:
    """One player per seat; seat i gets specs[i % len(specs)]. With `block` (a model_seats
    Block), the game is slot `slot` of several in flight sharing model contexts."""
    seat_specs = [specs[seat % len(specs)] for seat in range(n)]
    programs = [s not in BASELINES and is_program_spec(s) for s in seat_specs]
    if any(programs) and options.program_log is not None:
        check_log_path(options.program_log)
    # Program seats count as baselines for the model factory (it only ranks model seats).
    factory = _model_factory(
        ["random" if program else s for s, program in zip(seat_specs, programs)], options,
        block, slot)
    players: list[Player] = []
    for seat, spec in enumerate(seat_specs):
        if spec == "random":
            players.append(RandomPlayer(seed, seat))
        elif spec == "heuristic":
            players.append(HeuristicPlayer(seed, seat))
        elif programs[seat]:
            players.append(build_program_player(spec, seed, seat,
                                                timeout_s=options.program_timeout,
                                                log_path=options.program_log))
        else:
            assert factory is not None
            players.append(factory(spec, seat, seed))
    return players


def _model_factory(seat_specs: Sequence[str], options: ModelOptions,  # type: ignore[no-untyped-def]
                   block: Any = None, slot: int = 0):
    if all(s in BASELINES for s in seat_specs):
        return None
    # Imported lazily: llama.cpp is heavy and random-only games never need it.
    from mafia.agents.model_seats import LLMPlayerFactory

    return LLMPlayerFactory(seat_specs, options, block, slot)
