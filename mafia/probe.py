"""Re-asking a model player the votes recorded in transcripts (`mafia probe`).

A sweep costs minutes per game, and a prompt change moves every later decision of a game,
so its effect on one kind of decision is buried in noise. A probe instead rebuilds the exact
observation each voter had when a recorded vote was asked (the events visible to that seat
up to the vote, replayed through the engine's own state), asks a fresh model player, and
reads the probability its scoring put on each option. The same decisions can then be asked
again under other prompts (`prompts_dir`), so two variants are compared on identical
situations. Votes are what it probes: they decide games, and whom they should hit is known
from the roles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mafia import rules
from mafia.config import Rules
from mafia.decisions import ABSTAIN, Option, Request
from mafia.enums import DecisionKind, Role, Team
from mafia.events import BaseEvent, InvalidAction, ModelCall, VoteCast
from mafia.observation import Observation, observe
from mafia.report.load import Game
from mafia.state import GameState, rebuild_state

from mafia.agents.backends.base import Backend
from mafia.agents.llm_player import CHOICE_TEMPERATURE, LLMPlayer
from mafia.agents.prompting import PromptBook

# What a vote should hit, by the voter's situation (also the order of the table).
GROUPS = {
    "town": "town voters (not a detective who has checked a living player): a mafia player",
    "detective": "detectives who know a living mafia: one of those",
    "cleared": "detectives who know no living mafia but cleared a living player: a mafia "
               "player",
    "mafia": "mafia voters: a teammate (lower is better)",
}


@dataclass(frozen=True)
class VotePoint:
    """One recorded vote, with what the voter could see when it was asked."""

    game: str
    seed: int  # the game's, and the voter's seat index: a probe seeds its player with them
    seat: int
    day: int
    request: Request
    right: frozenset[str]  # the options a vote of this group should hit
    group: str
    recorded: str | None  # the target the recorded vote went to (None: abstained)


def _vote_starts(events: Sequence[BaseEvent], sequential: bool) -> list[tuple[int, list[str]]]:
    """(index, voters) per vote round: simultaneous votes are all asked before the first event
    of the vote (its model calls, refusals or casts); sequential ones each before their cast."""
    out: list[tuple[int, list[str]]] = []
    start: int | None = None
    voters: list[str] = []
    day = None
    for i, e in enumerate(events):
        of_vote = (isinstance(e, VoteCast)
                   or (isinstance(e, (ModelCall, InvalidAction)) and e.decision == "vote"))
        if not of_vote:
            if start is not None and not sequential and voters:
                out.append((start, voters))
            start, voters = None, []
            continue
        if sequential:
            if start is None or e.day != day:
                start, day = i, e.day
            if isinstance(e, VoteCast):
                out.append((start, [e.voter]))
                start = None
            continue
        if start is None:
            start, day = i, e.day
        if isinstance(e, VoteCast):
            voters.append(e.voter)
    if start is not None and not sequential and voters:
        out.append((start, voters))
    return out


def observation_at(events: Sequence[BaseEvent], index: int, player: str,
                   state: GameState | None = None) -> Observation:
    """What `player` observed before event `index`: the engine's state after the events
    before it (`state`, when the caller already rebuilt it), and the events visible to that
    player among them."""
    before = events[:index]
    seen = [e for e in before if e.visible_to is None or player in e.visible_to]
    return observe(state or rebuild_state(before), player, seen)


def vote_points(game: Game) -> list[VotePoint]:
    """Every recorded vote of `game` with a right answer (see GROUPS): not those of a mafia
    seat whose teammates are all dead."""
    config = Rules.model_validate(game.config)
    allow_abstain = config.allow_abstain
    sequential = config.vote_reveal == "sequential"
    roles = {name: seat.role for name, seat in game.seats.items()}
    cast = {(e.day, e.voter): e.target for e in game.events if isinstance(e, VoteCast)}
    asked: dict[str, int] = {}
    points = []
    seed = int(getattr(game.events[0], "seed", 0))
    seats = list(game.seats)
    for index, voters in _vote_starts(game.events, sequential):
        state = rebuild_state(game.events[:index])  # once for all who vote at this point
        for voter in voters:
            obs = observation_at(game.events, index, voter, state)
            options: tuple[Option, ...] = rules.others(voter, obs.alive)
            if allow_abstain:
                options += (ABSTAIN,)
            found = {p for p, what in obs.investigations().items()
                     if what == "mafia" and p in obs.alive}
            if roles[voter].team is Team.MAFIA:
                group, right = "mafia", set(obs.teammates) & set(obs.alive)
            elif roles[voter].team is not Team.TOWN:
                continue  # an own-side role (the jester) has no right vote here
            elif found:
                group, right = "detective", found
            elif roles[voter] is Role.DETECTIVE and any(
                    p in obs.alive and p != voter for p in obs.investigations()):
                group = "cleared"  # its votes went to players it cleared (report figure)
                right = {p for p in obs.alive if roles[p].team is Team.MAFIA}
            else:
                group = "town"
                right = {p for p in obs.alive if roles[p].team is Team.MAFIA and p != voter}
            asked[voter] = asked.get(voter, 0) + 1
            if not right:
                continue  # a mafia seat with no teammate left: no wrong or right here
            request = Request(kind=DecisionKind.VOTE, player=voter, options=options,
                              observation=obs, max_chars=config.max_message_chars,
                              index=asked[voter], rules=config)
            points.append(VotePoint(game.file, seed, seats.index(voter), obs.day, request,
                                    frozenset(right), group, cast.get((obs.day, voter))))
    return points


@dataclass
class GroupTally:
    decisions: int = 0
    p_right: list[float] = field(default_factory=list)  # model probability on a right option
    random: list[float] = field(default_factory=list)  # uniform over the options
    recorded: int = 0  # recorded votes that hit a right option
    drawn: int = 0  # the probe's own draw hit one

    def to_json(self) -> dict[str, Any]:
        p = np.asarray(self.p_right)
        half = 1.96 * p.std(ddof=1) / math.sqrt(len(p)) if len(p) > 1 else None
        return {"decisions": self.decisions,
                "p_right": float(p.mean()) if len(p) else None,
                "p_right_ci": [max(0.0, float(p.mean()) - half),
                               min(1.0, float(p.mean()) + half)]
                if half is not None else None,
                "random": float(np.mean(self.random)) if self.random else None,
                "recorded": self.recorded / self.decisions if self.decisions else None,
                "drawn": self.drawn / self.decisions if self.decisions else None}


def probabilities(labels: Sequence[str], scores: Sequence[float],
                  temperature: float) -> dict[str, float]:
    """The draw's probability per label: softmax of score / temperature."""
    s = np.asarray(scores, dtype=np.float64) / max(temperature, 1e-6)
    p = np.exp(s - s.max())
    p /= p.sum()
    return {label.strip(): float(x) for label, x in zip(labels, p)}


async def probe(points: Iterable[VotePoint], backend: Backend, *, style: str,
                prompts_dir: str | Path | None = None,
                on_point: Callable[[int], None] | None = None) -> dict[str, GroupTally]:
    """Ask each recorded vote again; tallies per group. Each decision gets a fresh player
    seeded by its game and seat, so a probe is reproducible and does not depend on the
    order of the decisions."""
    book = PromptBook(prompts_dir)
    tallies = {group: GroupTally() for group in GROUPS}
    for done, point in enumerate(points, 1):
        player = LLMPlayer(backend, seed=point.seed, seat=point.seat, style=style, book=book)
        answer = await player.act(point.request)
        labels, scores, temperature = player.last_choice or ((), (), CHOICE_TEMPERATURE)
        p = probabilities(labels, scores, temperature)
        options = [str(o) for o in point.request.options]
        t = tallies[point.group]
        t.decisions += 1
        t.p_right.append(sum(p.get(o, 0.0) for o in options if o in point.right))
        t.random.append(sum(o in point.right for o in options) / len(options))
        t.recorded += point.recorded in point.right
        t.drawn += str(answer.choice) in point.right
        if on_point is not None:
            on_point(done)
    return tallies
