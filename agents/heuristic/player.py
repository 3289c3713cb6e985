"""The heuristic player: reads its observation into a Table, then answers each request with
the town or mafia policy for that decision (see the package docstring for the strategy)."""

from __future__ import annotations

import copy
import random
from typing import Any

from mafia.claims import detect_claims

from mafia.decisions import Answer, Option, Request
from mafia.enums import DecisionKind, Team

from mafia.agents.heuristic import jester, mafia, town
from mafia.agents.heuristic.table import Table
from mafia.agents.heuristic.turn import Memory, Turn


class HeuristicPlayer:
    """Rule-based and deterministic: its own generator is derived from the game seed and the
    seat (as RandomPlayer's is), and it reads nothing but the requests' observations."""

    def __init__(self, seed: int, seat: int) -> None:
        self.rng = random.Random(f"heuristic-player:{seed}:{seat}")
        self.table: Table | None = None
        self.memory = Memory(voice=random.Random(f"heuristic-voice:{seed}:{seat}"))

    def describe(self) -> dict[str, Any]:
        return {"kind": "heuristic", "spec": "heuristic"}

    async def act(self, request: Request) -> Answer:
        if self.table is None:
            self.table = Table(request.player, request.rules)
        self.table.update(request.observation)
        turn = Turn(request, self.table, self.rng, self.memory)
        choice, text = decide(turn)
        if request.options and choice not in request.options:
            choice = turn.legal[0]  # never expected; a legal answer all the same
        return Answer(choice, text)


def decide(t: Turn) -> tuple[Option | None, str]:
    kind, is_mafia = t.request.kind, t.role.team is Team.MAFIA  # mafia and godfather
    if t.role.spec.wins_when_voted_out and kind not in (DecisionKind.BID,):
        return jester.decide(t)
    if kind is DecisionKind.BID:
        _next_moment(t)  # under bidding, a turn of the floor is a moment of the day
        return bid(t), ""
    if kind is DecisionKind.DAY_ACTION:
        if t.table.rule("discussion") != "bidding":
            _next_moment(t)
        return mafia.day_action(t) if is_mafia else town.day_action(t)
    if kind is DecisionKind.VOTE:
        return (mafia.vote(t) if is_mafia else town.vote(t)), ""
    if kind is DecisionKind.KILL:
        return mafia.kill(t), ""
    if kind is DecisionKind.PROTECT:
        return town.protect(t), ""
    if kind is DecisionKind.INVESTIGATE:
        return town.investigate(t), ""
    if kind is DecisionKind.SHOOT:
        return town.shoot(t), ""
    if kind is DecisionKind.MAFIA_CHAT:
        return None, mafia.chat(t)
    if kind is DecisionKind.LAST_WORDS:
        return None, mafia.last_words(t) if is_mafia else town.last_words(t)
    return (t.legal[0] if t.legal else None), ""  # a decision kind this player does not know


def _next_moment(t: Turn) -> None:
    if t.memory.day != t.day:
        t.memory.day, t.memory.moment = t.day, 0
    t.memory.moment += 1


def bid(t: Turn) -> str:
    """How urgently to take the floor: what it would say now, tried on copies of its memory
    and generator (so the try changes nothing): 4 for a claim or an accusation, 1 for
    anything else, 0 when it has nothing to say."""
    rng = random.Random()
    rng.setstate(t.rng.getstate())
    probe = Turn(t.request, t.table, rng, copy.deepcopy(t.memory))
    speech = (jester.speech if t.role.spec.wins_when_voted_out
              else mafia.speech if t.role.team is Team.MAFIA else town.speech)
    text = speech(probe)
    if not text:
        return "0"
    urgent = detect_claims(text, t.me, t.obs.seats)
    return "4" if urgent else "1"
