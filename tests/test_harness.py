"""The api_test harness: many seeded games of random legal players, every event and every
request checked (see helpers.GameChecker), across every rule variant.

What it protects: no rule variant lets a dead player act, leaks private information to a
player, offers an illegal option, miscounts a vote, declares a wrong winner, or writes a
transcript that does not rebuild the game.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    HARNESS_STATS, CheckedPlayer, GameChecker, RequestCheckFailed, Timer, random_players,
    run_checked,
)

from mafia.config import make_rules
from mafia.engine import Engine
from mafia.enums import Channel
from mafia.events import Message, NightAction, PlayerDied, VoteCast
from mafia.state import rebuild_state
from mafia.transcript import TranscriptWriter, read_transcript

GAMES_PER_CONFIG = 50

# Each config is one rule variant (or a few combined); 33 configs x 50 seeds = 1,650 games.
CONFIGS: list[dict[str, object]] = [
    dict(players=5),
    dict(players=6, first_phase="day"),
    dict(players=7, vote_reveal="sequential"),
    dict(players=8, tie_policy="none"),
    dict(players=9, allow_abstain=True),
    dict(players=10, reveal_on_death="team"),
    dict(players=11, reveal_on_death="none"),
    dict(players=12, detective_learns="role"),
    dict(players=7, doctor_self_save=False),
    dict(players=5, doctor_self_save=False, doctor_repeat_save=False),
    dict(players=8, doctor_repeat_save=False, max_days=10),
    dict(players=6, last_words=False),
    dict(players=9, max_public_messages_per_day=2),
    dict(players=10, max_public_messages_per_day=0, dm_limit_per_day=1),
    dict(players=11, dm_limit_per_day=0),
    dict(players=7, discussion_rounds=0),
    dict(players=8, max_days=1),
    dict(players=12, max_days=2, first_phase="day", tie_policy="none"),
    dict(players=12, night_chat_rounds=0, max_days=3),
    dict(players=12, night_chat_rounds=2, roles={"mafia": 4}, vote_reveal="sequential"),
    dict(players=9, roles={"mafia": 2, "doctor": 2, "detective": 2}, max_message_chars=20),
    dict(players=10, first_phase="day", allow_abstain=True, reveal_on_death="none",
         detective_learns="role", last_words=False, max_days=5, discussion_rounds=1),
    # Discussion protocols other than moments, alone and with the caps that bite them.
    dict(players=7, discussion="round_robin"),
    dict(players=9, discussion="round_robin", discussion_rounds=2, max_public_messages_per_day=3,
         dm_limit_per_day=1),
    dict(players=5, discussion="round_robin", discussion_rounds=0),
    dict(players=7, discussion="bidding"),
    dict(players=10, discussion="bidding", discussion_turns=3, max_public_messages_per_day=1,
         first_phase="day"),
    dict(players=6, discussion="bidding", discussion_turns=0),
    dict(players=7, discussion="clock"),
    dict(players=8, discussion="clock", typing_events=True, max_public_messages_per_day=4),
    dict(players=12, discussion="clock", day_seconds=20, max_silence_seconds=3,
         words_per_second=0.5, clock_decisions_per_day=9, dm_limit_per_day=3,
         typing_events=True),
    dict(players=6, discussion="clock", day_seconds=0),
    dict(players=9, discussion="clock", clock_decisions_per_day=1, first_phase="day",
         vote_reveal="sequential"),
    # The optional roles (mafia/roles/), alone, against other rules, and together.
    dict(players=7, roles={"godfather": 1}),
    dict(players=9, roles={"godfather": 1, "mafia": 2}, detective_learns="role",
         vote_reveal="sequential"),
    dict(players=7, roles={"vigilante": 1}),
    dict(players=10, roles={"vigilante": 2, "doctor": 0}, first_phase="day",
         allow_abstain=True, doctor_self_save=False),
    dict(players=7, roles={"jester": 1}),
    dict(players=8, roles={"jester": 1}, reveal_on_death="none", tie_policy="none",
         discussion="bidding"),
    dict(players=12, roles={"godfather": 1, "vigilante": 1, "jester": 1}, discussion="clock"),
    dict(players=5, roles={"mafia": 0, "godfather": 1, "vigilante": 1, "jester": 1,
                           "doctor": 0}, reveal_on_death="team"),
]


def _id(config: dict[str, object]) -> str:
    return ",".join(f"{k}={v}" for k, v in config.items())


@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
async def test_random_games_keep_every_invariant(config: dict[str, object], tmp_path: Path):
    """50 seeded games per variant: every event and every request obeys the rules, the state
    rebuilt from events equals the engine's, and every 10th game survives a JSONL round trip."""
    rules = make_rules(**config)
    base = CONFIGS.index(config) * 1000
    with Timer() as timer:
        for k in range(GAMES_PER_CONFIG):
            seed = base + k
            sinks = []
            path = tmp_path / f"{seed}.jsonl"
            if k % 10 == 0:
                writer = TranscriptWriter(path)
                sinks.append(writer)
            result, _ = await run_checked(rules, seed, sinks=sinks)
            assert rebuild_state(result.events) == result.state
            if k % 10 == 0:
                writer.close()
                read = read_transcript(path)
                assert read.problems == [] and read.unknown_kinds == 0
                assert read.events == result.events
                assert rebuild_state(read.events) == result.state
            HARNESS_STATS["events"] += len(result.events)
            HARNESS_STATS["winners"][result.winner.value] += 1
            optional = {r: n for r, n in rules.roles.items() if n and r.spec.default_count(
                rules.players) == 0 and r.value != "villager"}
            if optional:  # the acceptance's "game counts per role config"
                key = ",".join(f"{r.value}={n}" for r, n in optional.items())
                HARNESS_STATS["roles"][key][result.winner.value] += 1
    HARNESS_STATS["games"] += GAMES_PER_CONFIG
    HARNESS_STATS["seconds"] += timer.seconds
    print(f"{_id(config)}: {GAMES_PER_CONFIG / timer.seconds:.0f} games/s")


async def test_harness_sees_every_kind_of_play():
    """The harness is only as good as what it exercises: random games do produce DMs, public
    messages, mafia chat, night deaths, saves, last words and all three results."""
    seen: set[str] = set()
    for max_days in (2, 10):
        rules = make_rules(players=8, roles={"mafia": 2}, max_days=max_days)
        for seed in range(30):
            result, _ = await run_checked(rules, seed)
            seen.add(f"winner:{result.winner.value}")
            for e in result.events:
                seen.add(e.kind)
                if isinstance(e, Message):
                    seen.add(f"message:{e.channel.value}")
    for wanted in ("message:public", "message:dm", "message:mafia", "player_died",
                   "nobody_died", "last_words", "investigation_result",
                   "winner:town", "winner:mafia", "winner:draw"):
        assert wanted in seen, wanted


async def test_checker_catches_a_leak():
    """The checker must be able to fail: a DM also shown to a third player is caught."""
    rules = make_rules(players=5)
    result, _ = await run_checked(rules, 3)
    i, dm = next((i, e) for i, e in enumerate(result.events)
                 if isinstance(e, Message) and e.channel is Channel.DM)
    third = next(p for p in result.state.seats if p not in dm.visible_to)
    leaked = dm.model_copy(update={"visible_to": (*dm.visible_to, third)})
    checker = GameChecker(rules)
    for e in result.events[:i]:
        checker(e)
    with pytest.raises(AssertionError, match="DM visible to"):
        checker(leaked)


async def test_checker_catches_a_dead_voter():
    """The checker must be able to fail: a vote by a player killed that night is caught."""
    rules = make_rules(players=6)
    result, _ = await run_checked(rules, 5)
    i, death = next((i, e) for i, e in enumerate(result.events)
                    if isinstance(e, PlayerDied) and e.cause == "night")
    checker = GameChecker(rules)
    for e in result.events[: i + 1]:
        checker(e)
    with pytest.raises(AssertionError, match=f"dead {death.player} voted"):
        checker(VoteCast(seq=i + 1, day=death.day, phase=death.phase, voter=death.player,
                         target=result.state.seats[0]))


async def test_two_doctors_never_repeat_a_save_when_banned():
    """doctor_repeat_save=false: no doctor protects the same player two nights running."""
    rules = make_rules(players=9, roles={"doctor": 2, "mafia": 2, "detective": 0},
                       doctor_repeat_save=False)
    for seed in range(10):
        result, _ = await run_checked(rules, seed)  # the checker tracks each doctor's save
        last: dict[str, tuple[int, str]] = {}
        for e in result.events:
            if isinstance(e, NightAction) and e.action == "protect":
                assert last.get(e.actor) != (e.day - 1, e.target), (seed, e)
                last[e.actor] = (e.day, e.target)


async def test_checker_catches_a_bad_request():
    """A request check failure stops the game even when invalid actions are allowed (the
    engine must not be able to swallow it as a player error)."""
    rules = make_rules(players=5)
    checker = GameChecker(rules, allow_invalid=True)
    checker.legal_options = lambda player, kind: ("Nobody",)  # type: ignore[method-assign]
    players = [CheckedPlayer(p, checker) for p in random_players(rules, 0)]
    with pytest.raises(RequestCheckFailed, match="options"):
        await Engine(rules, 0, players, sinks=[checker]).run()
