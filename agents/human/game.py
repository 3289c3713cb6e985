"""One game with a person in one seat: the players around them, the front end (the app on a
terminal, plain lines otherwise) and the transcript."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mafia.config import SEAT_NAMES, Rules
from mafia.engine import Engine, EventSink, GameResult, run_game
from mafia.transcript import TranscriptWriter

from mafia.decisions import Player
from mafia.agents.human.lines import LineFrontEnd, StdinLines
from mafia.agents.human.seat import FrontEnd, HumanPlayer, seat_sink
from mafia.agents.timed import TimedPlayer


def seat_players(players: Sequence[Player], seats: Sequence[str], seat: str,
                 front: FrontEnd, timeout_s: float | None,
                 others_timeout_s: float | None) -> list[Player]:
    """`players` with `seat` played by the person; every other seat keeps the time limit
    the engine would have given it (the engine's own limit is off: it would hold the person
    to it too)."""
    out: list[Player] = []
    for name, player in zip(seats, players):
        if name == seat:
            out.append(HumanPlayer(front, timeout_s))
        else:
            out.append(player if others_timeout_s is None else TimedPlayer(player, others_timeout_s))
    return out


def play_human(
    rules: Rules,
    seed: int,
    players: Sequence[Player],
    seat: str,
    out: Path,
    *,
    timeout_s: float | None,
    others_timeout_s: float | None,
    interactive: bool,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> GameResult | None:
    """Play to the end (the result) or until the person leaves the app (None); the
    transcript holds every event up to that point either way."""
    with TranscriptWriter(out) as writer:
        if not interactive:
            front = LineFrontEnd(seat, StdinLines(stdin), stdout)
            return run_game(build_engine(rules, seed, players, seat, front, [writer],
                                         timeout_s, others_timeout_s))
        from mafia.agents.human.app import HumanApp  # lazily: Textual only for the app

        app = HumanApp(seat, out, timeout_s)
        app.game = build_engine(rules, seed, players, seat, app, [writer], timeout_s,
                                others_timeout_s).run
        result = app.run()
        if app.error is not None:
            raise app.error
        return result


def build_engine(rules: Rules, seed: int, players: Sequence[Player], seat: str,
                 front: FrontEnd, sinks: Sequence[EventSink], timeout_s: float | None = None,
                 others_timeout_s: float | None = None) -> Engine:
    """The engine for a game with the person at `seat`: `sinks` get every event, the front
    end only the seat's."""
    seats = SEAT_NAMES[: rules.players]
    return Engine(rules, seed, seat_players(players, seats, seat, front, timeout_s,
                                            others_timeout_s),
                  sinks=[*sinks, seat_sink(seat, front.show)], on_waiting=front.waiting,
                  timeout_s=None)
