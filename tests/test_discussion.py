"""The discussion protocols' own guarantees, on a host that records what the protocol does:
the clock's ordering (typing time, re-asking idle players on every message they can see,
nobody deciding while typing, the day ending on time, the cap), the bidding floor rule, and
the round robin's turn order (each player sees everything said before them)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import run_checked

from mafia.config import make_rules
from mafia.decisions import SAY, WAIT, Answer, DayAction, Option
from mafia.enums import Channel, DecisionKind, Phase
from mafia.events import BaseEvent, Message
from mafia.discussion import protocol
from mafia.discussion.bidding import pick_speaker
from mafia.discussion.clock import Clock, typing_seconds

Policy = Callable[[str, float, int], Answer]  # (player, simulated now, its decision number)


@dataclass
class FakeHost:
    """A DayHost without a game: players answer by `policy`; everything is recorded."""

    rules: Any
    policy: Policy
    players: Sequence[str] = ("Alice", "Bob", "Carol", "Dave")
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    clock: Clock | None = None
    asked: list[tuple[float, str]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def alive(self) -> list[str]:
        return list(self.players)

    def now(self) -> float:
        return self.clock.now if self.clock is not None else 0.0

    async def ask(self, asks: Sequence[tuple[str, DecisionKind, tuple[Option, ...]]]
                  ) -> list[Answer]:
        out = []
        for player, _kind, _options in asks:
            n = self.counts.get(player, 0)
            self.counts[player] = n + 1
            self.asked.append((self.now(), player))
            out.append(self.policy(player, self.now(), n))
        return out

    def day_options(self, player: str) -> tuple[Option, ...]:
        return (WAIT, SAY, *(DayAction("dm", p) for p in self.players if p != player))

    def speech(self, player: str, answer: Answer) -> str:
        return answer.text.strip()

    def publish(self, player: str, action: DayAction, text: str, **timing: Any) -> Message:
        dm = action.action == "dm"
        m = Message(seq=len(self.messages), day=1, phase=Phase.DAY,
                    visible_to=(player, action.to) if dm else None,
                    channel=Channel.DM if dm else Channel.PUBLIC, sender=player,
                    recipient=action.to if dm else None, text=text, **timing)
        self.messages.append(m)
        return m

    def emit(self, cls: type[BaseEvent], visible_to: Sequence[str] | None = None,
             **fields: Any) -> BaseEvent:
        return cls(seq=0, day=1, phase=Phase.DAY, visible_to=visible_to, **fields)


async def _clock_day(policy: Policy, **rules: Any) -> FakeHost:
    clock = Clock()
    host = FakeHost(make_rules(discussion="clock", **rules), policy, clock=clock)
    await clock.run(host, 1)
    return host


def _say(words: int) -> Answer:
    return Answer(SAY, " ".join(["word"] * words))


async def test_a_message_lands_after_its_typing_time():
    host = await _clock_day(lambda p, now, n: _say(5) if (p, n) == ("Bob", 0) else Answer(WAIT),
                            words_per_second=2.0)
    (m,) = host.messages
    assert (m.sender, m.started, m.t) == ("Bob", 0.0, 2.5)
    assert typing_seconds("one", 1.0) == 1.0  # at least a second, however short


async def test_idle_players_are_asked_again_on_every_message_they_can_see():
    # Alice says a 3-word line at 0 (lands at 3); her own message does not wake her, her
    # silence timer does (at 33), when she DMs Carol (lands at 35); the rest wait.
    def policy(p: str, now: float, n: int) -> Answer:
        if p == "Alice" and n == 0:
            return _say(3)
        if p == "Alice" and n == 1:
            return Answer(DayAction("dm", "Carol"), "two words")
        return Answer(WAIT)

    host = await _clock_day(policy, max_silence_seconds=30)
    public, dm = host.messages
    assert (public.t, dm.t) == (3.0, 35.0)
    at = lambda t: sorted(p for when, p in host.asked if when == t)  # noqa: E731
    assert at(0.0) == ["Alice", "Bob", "Carol", "Dave"]
    assert at(3.0) == ["Bob", "Carol", "Dave"]  # the author is not woken by its own message
    assert at(33.0) == ["Alice", "Bob", "Carol", "Dave"]  # 30 s of silence for all
    assert at(35.0) == ["Carol"]  # a DM wakes its recipient only


async def test_nobody_decides_while_typing():
    # Bob types 10 words from 0 (busy until 10); Alice's 2-word line lands at 2.
    def policy(p: str, now: float, n: int) -> Answer:
        if (p, n) == ("Bob", 0):
            return _say(10)
        if (p, n) == ("Alice", 0):
            return _say(2)
        return Answer(WAIT)

    host = await _clock_day(policy)
    assert [(m.sender, m.t) for m in host.messages] == [("Alice", 2.0), ("Bob", 10.0)]
    assert not [t for t, p in host.asked if p == "Bob" and 0.0 < t < 10.0]
    assert sorted(p for t, p in host.asked if t == 2.0) == ["Carol", "Dave"]
    assert sorted(p for t, p in host.asked if t == 10.0) == ["Alice", "Carol", "Dave"]


async def test_the_day_ends_on_time_and_late_messages_are_never_sent():
    # Everybody waits except Dave, who starts a 10-word line at every decision.
    policy = lambda p, now, n: _say(10) if p == "Dave" else Answer(WAIT)  # noqa: E731
    host = await _clock_day(policy, day_seconds=25, max_silence_seconds=3,
                            clock_decisions_per_day=100)
    # Dave: typing 0-10, silent until 13, typing 13-23, asked at 26 > 25: the day is over.
    assert [m.t for m in host.messages] == [10.0, 23.0]
    assert max(t for t, _ in host.asked) <= 25
    # Silent players are asked again every max_silence_seconds or on each message.
    alice = [t for t, p in host.asked if p == "Alice"]
    assert alice[:6] == [0.0, 3.0, 6.0, 9.0, 10.0, 13.0]

    # A line started at 20 that would land at 30 is never sent.
    late = lambda p, now, n: _say(10) if (p, n) == ("Dave", 1) else Answer(WAIT)  # noqa: E731
    host = await _clock_day(late, day_seconds=25, max_silence_seconds=20)
    assert host.messages == [] and (20.0, "Dave") in host.asked


async def test_decisions_per_day_are_capped():
    host = await _clock_day(lambda p, now, n: Answer(WAIT), clock_decisions_per_day=3,
                            day_seconds=1000, max_silence_seconds=1)
    assert host.counts == dict.fromkeys(host.players, 3)


async def test_equal_times_land_in_an_order_drawn_from_the_game_generator():
    both = lambda p, now, n: _say(4) if p in ("Alice", "Bob") and n == 0 else Answer(WAIT)  # noqa: E731
    orders = set()
    for seed in range(12):
        clock = Clock()
        host = FakeHost(make_rules(discussion="clock"), both, rng=random.Random(seed),
                        clock=clock)
        await clock.run(host, 1)
        order = tuple(m.sender for m in host.messages)
        again = FakeHost(make_rules(discussion="clock"), both, rng=random.Random(seed),
                         clock=Clock())
        await again.clock.run(again, 1)  # type: ignore[union-attr]
        assert tuple(m.sender for m in again.messages) == order  # same seed, same order
        orders.add(order)
    assert orders == {("Alice", "Bob"), ("Bob", "Alice")}


def test_the_highest_bid_gets_the_floor_ties_favour_the_named():
    rng = random.Random(0)
    assert pick_speaker({"Alice": 1, "Bob": 3, "Carol": 2}, "", rng) == "Bob"
    assert pick_speaker({"Alice": 0, "Bob": 0}, "Bob, speak up", rng) is None
    for _ in range(20):
        assert pick_speaker({"Alice": 4, "Bob": 4, "Carol": 4}, "I think Carol lies.",
                            rng) == "Carol"
    drawn = {pick_speaker({"Alice": 2, "Bob": 2}, "nobody named", rng) for _ in range(40)}
    assert drawn == {"Alice", "Bob"}
    assert pick_speaker({"Alice": 2, "Alicia": 2}, "Alicia is odd", random.Random(1)) == "Alicia"


class _Recorder:
    """A player that says one unique line per turn and records what it had seen."""

    def __init__(self, name_seat: int) -> None:
        self.seat, self.seen_before_speaking = name_seat, []

    def describe(self) -> dict[str, Any]:
        return {"kind": "recorder"}

    async def act(self, request: Any) -> Answer:
        if request.kind is DecisionKind.DAY_ACTION:
            said = [e.text for e in request.observation.events if isinstance(e, Message)
                    and e.channel is Channel.PUBLIC and e.day == request.observation.day]
            self.seen_before_speaking.append(said)
            return Answer(SAY, f"line {request.player} {len(said)}")
        if request.options:
            return Answer(request.options[-1] if request.kind is DecisionKind.BID
                          else request.options[0])
        return Answer()


async def test_round_robin_players_see_everything_said_before_them():
    rules = make_rules(players=6, discussion="round_robin", discussion_rounds=2, max_days=1)
    players = [_Recorder(i) for i in range(6)]
    result, _ = await run_checked(rules, 3, players)
    day1 = [e for e in result.events if isinstance(e, Message) and e.day == 1
            and e.channel is Channel.PUBLIC]
    alive = len({m.sender for m in day1})
    assert alive >= 5 and len(day1) == 2 * alive  # everyone alive speaks in each round
    for i, m in enumerate(day1):  # the i-th speaker had heard exactly the i lines before
        assert m.text.endswith(f" {i}")
    order = [m.sender for m in day1]
    assert sorted(order[:alive]) == sorted(order[alive:])  # each living player once a round


@pytest.mark.parametrize("discussion", ["moments", "round_robin", "bidding", "clock"])
async def test_every_protocol_runs_under_the_checker_with_deterministic_players(discussion):
    rules = make_rules(players=7, discussion=discussion, typing_events=True)
    result, checker = await run_checked(rules, 11, [_Recorder(i) for i in range(7)])
    said = [e for e in result.events if isinstance(e, Message) and e.channel is Channel.PUBLIC]
    assert said, "somebody spoke"
    assert protocol(discussion).active(rules)
