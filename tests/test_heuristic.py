"""The heuristic baseline (agents/heuristic): legal and deterministic in every rule variant,
its lines readable by the claim detector, and measurably better than random play.

Measured figures (7 players, default rules, seeds 0-299; see `figures`) are in the comments
next to each threshold; each threshold leaves a margin to the measured value and would fail
for random players (games are seeded, so a figure changes only when the code does).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, run_checked

from mafia.claims import detect_claims, detect_findings
from mafia.config import SEAT_NAMES, make_rules
from mafia.decisions import ABSTAIN, SAY, WAIT, DayAction, Request
from mafia.engine import Engine, run_game
from mafia.enums import Channel, DecisionKind, Phase, Role
from mafia.events import (
    GameOver, GameStarted, InvestigationResult, KillDecided, LastWords, Message, NightAction,
    PhaseStarted, PlayerDied, RoleAssigned, VoteCast,
)
from mafia.observation import Observation
from mafia.rules import deal_roles
from mafia.stats import two_proportion_z
from mafia.transcript import TranscriptWriter, comparable_lines

from mafia.agents.heuristic import HeuristicPlayer
from mafia.agents.heuristic.speech import DMS, PHRASES, REASONS
from mafia.agents.random_player import RandomPlayer

# Rule variants for the invariant games: 5-9 players, the rules that change what a player
# may do or know.
VARIANTS: list[dict[str, Any]] = [
    dict(players=7),
    dict(players=5, allow_abstain=True),
    dict(players=6, detective_learns="role"),
    dict(players=8, first_phase="day"),
    dict(players=9, vote_reveal="sequential"),
    dict(players=7, reveal_on_death="none"),
    dict(players=8, reveal_on_death="team", tie_policy="none"),
    dict(players=5, doctor_self_save=False, doctor_repeat_save=False),
    dict(players=9, roles={"mafia": 2, "doctor": 2, "detective": 2}, max_message_chars=20),
    dict(players=9, roles={"mafia": 3}, night_chat_rounds=0, allow_abstain=True,
         vote_reveal="sequential", max_public_messages_per_day=2, dm_limit_per_day=0),
    dict(players=6, roles={"detective": 0}, first_phase="day", reveal_on_death="none",
         detective_learns="role", discussion_rounds=1, last_words=False),
]


def mixed_players(rules_: Any, seed: int) -> list[Any]:
    """Every fourth game all heuristic, else each seat heuristic with probability 0.6."""
    mix = random.Random(f"mix:{seed}")
    return [HeuristicPlayer(seed, s) if seed % 4 == 0 or mix.random() < 0.6
            else RandomPlayer(seed, s) for s in range(rules_.players)]


async def test_mixed_games_keep_every_invariant() -> None:
    """330 checked games of heuristic and random seats across the variants: every request and
    event obeys the rules (no invalid action: run_checked fails on one), every game ends, and
    heuristic seats never abstain when another option is legal."""
    games = 0
    for v, variant in enumerate(VARIANTS):
        rules_ = make_rules(**variant)
        for k in range(30):
            seed = 5000 + 100 * v + k
            players = mixed_players(rules_, seed)
            result, _ = await run_checked(rules_, seed, players)
            assert result.state.winner is not None
            heuristic = {SEAT_NAMES[s] for s, p in enumerate(players)
                         if isinstance(p, HeuristicPlayer)}
            assert not [e for e in result.events if isinstance(e, VoteCast)
                        and e.voter in heuristic and e.target is None], (variant, seed)
            games += 1
    assert games == 30 * len(VARIANTS)


@pytest.mark.parametrize("variant", [VARIANTS[0], VARIANTS[4], VARIANTS[9]])
@pytest.mark.parametrize("seed", [0, 7, 2**31 - 1])
async def test_same_seed_same_transcript(tmp_path: Path, variant: dict[str, Any],
                                         seed: int) -> None:
    rules_ = make_rules(**variant)
    files = []
    for run in ("a", "b"):
        path = tmp_path / f"{run}.jsonl"
        with TranscriptWriter(path) as writer:
            await Engine(rules_, seed, mixed_players(rules_, seed), sinks=[writer]).run()
        files.append(path.read_bytes())
    assert files[0] == files[1]


def test_same_seed_same_transcript_across_processes(tmp_path: Path) -> None:
    """Nothing depends on hash order: two processes with different hash seeds agree."""
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [sys.executable, "-m", "mafia", "play", "--agents", "heuristic", "--seed", "3",
             "--players", "8", "--quiet", "--out", str(out)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.append(comparable_lines(out))
    assert outs[0] == outs[1]


# ---- what the lines say -------------------------------------------------------------------


@pytest.mark.parametrize("key,kind,value", [
    ("detective", "role", "detective"), ("doctor", "role", "doctor"),
    ("innocent", "role", "town"), ("mafia", "accuse", "mafia"), ("liar", "accuse", "mafia"),
    ("suspect", "accuse", "mafia"), ("town", "clear", "town"), ("trust", "clear", "town"),
    ("found_mafia", "accuse", "mafia"), ("found_town", "clear", "town"),
])
def test_every_phrasing_of_an_information_line_is_detected_alike(key: str, kind: str,
                                                                 value: str) -> None:
    for phrase in PHRASES[key]:
        text = phrase.format(name="Carol")
        claims = detect_claims(text, "Alice", SEAT_NAMES[:7])
        assert [(c.kind, c.value) for c in claims] == [(kind, value)], text
        assert claims[0].subject == ("Alice" if kind == "role" else "Carol")
        if key.startswith("found_"):  # a check reads as a check (the report's figure)
            assert [c.value for c in detect_findings(text, "Alice", SEAT_NAMES[:7])] == [
                value], text


@pytest.mark.parametrize("key", ["lean", "quiet", "careful", "kill", "agree", "ask",
                                 "agree_with", "doubt"])
def test_other_lines_claim_nothing(key: str) -> None:
    for phrase in PHRASES[key]:
        assert detect_claims(phrase.format(name="Carol"), "Alice", SEAT_NAMES[:7]) == [], phrase


def test_reasons_and_dms_add_no_claim() -> None:
    """A reason after an accusation changes nothing the detector reads: only the accusation."""
    for kind, phrases in REASONS.items():
        for phrase in phrases:
            text = f"I suspect Carol because {phrase.format(name='Carol', other='Dave')}."
            claims = detect_claims(text, "Alice", SEAT_NAMES[:7])
            assert [(c.subject, c.kind) for c in claims] == [("Carol", "accuse")], text
    for phrases in DMS.values():
        for phrase in phrases:
            assert detect_claims(phrase.format(name="Carol", other="Dave"), "Alice",
                                 SEAT_NAMES[:7]) == [], phrase


def test_kill_phrasings_name_the_target_for_teammates() -> None:
    from mafia.agents.heuristic.table import _kill_pattern

    for key in ("kill", "agree"):
        for phrase in PHRASES[key]:
            assert _kill_pattern("Carol").search(phrase.format(name="Carol")), phrase


def test_heuristic_speech_varies_and_names_only_seats() -> None:
    """Over 30 all-heuristic games: many distinct lines, and no name outside the table."""
    from mafia.report.truth import absent_names

    texts: list[str] = []
    for seed in range(30):
        rules = make_rules(players=7)
        events: list[Any] = []
        asyncio.run(Engine(rules, seed, [HeuristicPlayer(seed, s) for s in range(7)],
                           sinks=[events.append]).run())
        seats = SEAT_NAMES[:7]
        for e in events:
            text = getattr(e, "text", None)
            if text:
                assert not absent_names(text, seats), text
                texts.append(text)
    assert len(set(texts)) > 0.5 * len(texts), (len(set(texts)), len(texts))
    assert any("because" in t for t in texts) and any(t.endswith("?") for t in texts)


def _echoes(games: int) -> tuple[int, int]:
    """(messages, messages equal word for word to one their speaker had already seen) over
    all-heuristic round-robin games, where every speaker has heard every earlier public line."""
    from mafia.text import normalise

    said = echoes = 0
    for seed in range(games):
        events: list[Any] = []
        asyncio.run(Engine(make_rules(players=7, discussion="round_robin"), seed,
                           [HeuristicPlayer(seed, s) for s in range(7)],
                           sinks=[events.append]).run())
        for i, e in enumerate(events):
            if isinstance(e, (Message, LastWords)):
                speaker = e.sender if isinstance(e, Message) else e.player
                seen = {normalise(x.text) for x in events[:i]
                        if isinstance(x, (Message, LastWords)) and x.visible_for(speaker)}
                said += 1
                echoes += normalise(e.text) in seen
    return said, echoes


def test_heuristic_players_word_a_line_afresh_rather_than_echo_one(monkeypatch) -> None:
    """A line already heard this game is worded again, so the teacher does not repeat others
    word for word (what `mafia report`'s repeat figure counts); without it, it does."""
    from mafia.agents.heuristic import speech

    said, echoes = _echoes(40)
    assert said > 500 and echoes <= 0.003 * said, (said, echoes)
    monkeypatch.setattr(speech, "REWORDINGS", 0)
    said, echoes = _echoes(40)
    assert echoes >= 0.01 * said, (said, echoes)


# ---- focused decisions ----------------------------------------------------------------------

SEATS = SEAT_NAMES[:5]


@dataclass
class Script:
    """Events for a hand-built observation, numbered as the engine numbers them."""

    rules: Any = field(default_factory=lambda: make_rules(players=5))
    events: list[Any] = field(default_factory=list)

    def add(self, cls: type, **fields: Any) -> None:
        fields.setdefault("day", 1)
        fields.setdefault("phase", Phase.DAY)
        self.events.append(cls(seq=len(self.events), **fields))

    def start(self, me: str, role: Role, mates: tuple[str, ...] = ()) -> None:
        self.add(GameStarted, day=0, phase=Phase.SETUP, seed=11, version="test",
                 config=self.rules.model_dump(mode="json"),
                 players=[{"name": n, "agent": {"kind": "heuristic"}} for n in SEATS])
        self.add(RoleAssigned, day=0, phase=Phase.SETUP, visible_to=(me,), player=me,
                 role=role.value, team=role.team, teammates=mates)

    def request(self, me: str, role: Role, kind: DecisionKind, options: tuple[Any, ...],
                phase: Phase = Phase.DAY, mates: tuple[str, ...] = (), index: int = 0,
                alive: tuple[str, ...] = SEATS, order: tuple[str, ...] = ()) -> Request:
        obs = Observation(player=me, role=role, teammates=mates, day=1, phase=phase,
                          seats=SEATS, alive=alive, events=tuple(self.events), order=order)
        return Request(kind=kind, player=me, options=options, observation=obs,
                       max_chars=300, index=index, rules=self.rules)


def answer(player: HeuristicPlayer, request: Request) -> Any:
    return asyncio.run(player.act(request))


def day_options(me: str) -> tuple[Any, ...]:
    return (WAIT, SAY, *(DayAction("dm", p) for p in SEATS if p != me))


def test_detective_claims_and_votes_the_mafia_it_found() -> None:
    s = Script()
    s.start("Alice", Role.DETECTIVE)
    s.add(PhaseStarted, phase=Phase.NIGHT)
    s.add(InvestigationResult, phase=Phase.NIGHT, visible_to=("Alice",), detective="Alice",
          target="Carol", result="mafia")
    s.add(PhaseStarted)
    alice = HeuristicPlayer(11, 0)
    said = answer(alice, s.request("Alice", Role.DETECTIVE, DecisionKind.DAY_ACTION,
                                   day_options("Alice")))
    assert said.choice == SAY and said.text.startswith(PHRASES["detective"])
    assert "I checked Carol" in said.text or "I investigated Carol" in said.text
    claims = {(c.kind, c.subject, c.value) for c in detect_claims(said.text, "Alice", SEATS)}
    assert claims == {("role", "Alice", "detective"), ("accuse", "Carol", "mafia")}
    s.add(Message, channel=Channel.PUBLIC, sender="Alice", text=said.text)
    again = answer(alice, s.request("Alice", Role.DETECTIVE, DecisionKind.DAY_ACTION,
                                    day_options("Alice"), index=1))
    assert again.choice == WAIT  # said once; no repetition
    vote = answer(alice, s.request("Alice", Role.DETECTIVE, DecisionKind.VOTE,
                                   tuple(p for p in SEATS if p != "Alice"), index=2))
    assert vote.choice == "Carol"


def claims_of(text: str, speaker: str) -> set[tuple[str, str]]:
    return {(c.kind, c.subject) for c in detect_claims(text, speaker, SEATS)}


def _heard_alice_claim(me: str) -> Script:
    """Day 1 of a villager `me`, after Alice's public claim that Carol is mafia."""
    s = Script()
    s.start(me, Role.VILLAGER)
    s.add(PhaseStarted)
    s.add(Message, channel=Channel.PUBLIC, sender="Alice",
          text="I am the detective. Carol is mafia.")
    return s


def test_town_follows_an_uncontested_detective_claim() -> None:
    """A villager who hears the claim votes the accused and says so."""
    s = _heard_alice_claim("Eve")
    eve = HeuristicPlayer(11, 4)
    said = answer(eve, s.request("Eve", Role.VILLAGER, DecisionKind.DAY_ACTION,
                                 day_options("Eve")))
    assert claims_of(said.text, "Eve") == {("accuse", "Carol")}, said.text
    options = tuple(p for p in SEATS if p != "Eve") + (ABSTAIN,)
    assert answer(eve, s.request("Eve", Role.VILLAGER, DecisionKind.VOTE, options,
                                 index=1)).choice == "Carol"


def test_the_accused_town_player_calls_the_claimant_a_liar() -> None:
    s = _heard_alice_claim("Carol")
    carol = HeuristicPlayer(11, 2)
    said = answer(carol, s.request("Carol", Role.VILLAGER, DecisionKind.DAY_ACTION,
                                   day_options("Carol")))
    assert said.text.startswith(PHRASES["innocent"]), said.text
    assert claims_of(said.text, "Carol") == {("role", "Carol"), ("accuse", "Alice")}
    assert answer(carol, s.request("Carol", Role.VILLAGER, DecisionKind.VOTE,
                                   ("Alice", "Bob", "Dave", "Eve"), index=1)).choice == "Alice"


def test_doctor_protects_a_credible_detective_claimant() -> None:
    protected = Counter()
    for seed in range(40):
        s = Script()
        s.start("Dave", Role.DOCTOR)
        s.add(PhaseStarted)
        s.add(Message, channel=Channel.PUBLIC, sender="Bob", text="I am the detective.")
        s.add(PhaseStarted, day=2, phase=Phase.NIGHT)
        request = s.request("Dave", Role.DOCTOR, DecisionKind.PROTECT, SEATS, phase=Phase.NIGHT)
        protected[answer(HeuristicPlayer(seed, 3), request).choice] += 1
    assert protected["Bob"] >= 28, protected  # credibility 0.85: about 34 of 40


def test_mafia_follow_a_kill_proposal_in_their_channel() -> None:
    """The first "kill X" of the night decides, also when a teammate words it its own way."""
    s = Script()
    s.start("Bob", Role.MAFIA, mates=("Dave",))
    s.add(PhaseStarted, phase=Phase.NIGHT)
    s.add(Message, phase=Phase.NIGHT, visible_to=("Bob", "Dave"), channel=Channel.MAFIA,
          sender="Dave", text="let's kill eve tonight")
    bob = HeuristicPlayer(11, 1)
    chat = answer(bob, s.request("Bob", Role.MAFIA, DecisionKind.MAFIA_CHAT, (),
                                 phase=Phase.NIGHT, mates=("Dave",)))
    agreed = [p.format(name="Eve") for p in PHRASES["agree"]]
    assert chat.choice is None and chat.text.startswith(tuple(agreed)), chat.text
    kill = answer(bob, s.request("Bob", Role.MAFIA, DecisionKind.KILL,
                                 ("Alice", "Carol", "Eve"), phase=Phase.NIGHT,
                                 mates=("Dave",), index=1))
    assert kill.choice == "Eve"


@pytest.mark.parametrize("plan", ["Alice", "Carol", "Eve"])
def test_mafia_vote_the_plan_of_their_channel_where_the_evidence_ties(plan: str) -> None:
    """A teammate's "vote X tomorrow" at night decides a day vote between equally suspicious
    town players (every one of them, so not the focal order), and is repeated in the reply;
    a public accusation outweighs it."""
    s = Script()
    s.start("Bob", Role.MAFIA, mates=("Dave",))
    s.add(PhaseStarted, phase=Phase.NIGHT)
    s.add(Message, phase=Phase.NIGHT, visible_to=("Bob", "Dave"), channel=Channel.MAFIA,
          sender="Dave", text=f"Kill Eve. Tomorrow we vote {plan}." if plan != "Eve"
          else "Kill Alice. Tomorrow we vote Eve.")
    bob = HeuristicPlayer(11, 1)
    chat = answer(bob, s.request("Bob", Role.MAFIA, DecisionKind.MAFIA_CHAT, (),
                                 phase=Phase.NIGHT, mates=("Dave",)))
    assert any(p.format(name=plan) in chat.text for p in PHRASES["plan"]), chat.text
    s.add(PhaseStarted)
    town = tuple(p for p in SEATS if p not in ("Bob", "Dave"))
    vote = answer(bob, s.request("Bob", Role.MAFIA, DecisionKind.VOTE, (*town, "Dave"), index=1))
    assert vote.choice == plan
    other = next(p for p in town if p != plan)
    s.add(Message, channel=Channel.PUBLIC, sender=plan, text=f"{other} is mafia.")
    vote = answer(bob, s.request("Bob", Role.MAFIA, DecisionKind.VOTE, (*town, "Dave"), index=2))
    assert vote.choice == other


def _rotated(first: str) -> tuple[str, ...]:
    i = SEATS.index(first)
    return SEATS[i:] + SEATS[:i]


@pytest.mark.parametrize("first", SEATS)
def test_town_breaks_a_tie_by_the_rounds_public_order(first: str) -> None:
    """Without evidence a villager votes the first player of the round's order (which every
    seat reads) other than itself, also after another player leans elsewhere."""
    order = _rotated(first)
    want = next(p for p in order if p != "Bob")
    s = Script()
    s.start("Bob", Role.VILLAGER)
    s.add(PhaseStarted, phase=Phase.NIGHT, order=order)
    s.add(PhaseStarted, order=order)
    others = tuple(p for p in SEATS if p != "Bob")
    bob = HeuristicPlayer(11, 1)
    assert answer(bob, s.request("Bob", Role.VILLAGER, DecisionKind.VOTE, others,
                                 order=order)).choice == want
    elsewhere = next(p for p in others if p != want)
    s.add(Message, channel=Channel.PUBLIC, sender=next(p for p in others if p != elsewhere),
          text=PHRASES["lean"][0].format(name=elsewhere))
    assert answer(bob, s.request("Bob", Role.VILLAGER, DecisionKind.VOTE, others, index=1,
                                 order=order)).choice == want


def test_mafia_lean_on_their_plan_where_the_order_puts_a_teammate_first() -> None:
    """On a day without evidence the mafia may say where their vote goes, as the town does:
    their plan, not the order's first player (a teammate), and vote it."""
    order = ("Dave", "Alice", "Bob", "Carol", "Eve")
    leans: list[str] = []
    for seed in range(40):
        s = Script()
        s.start("Bob", Role.MAFIA, mates=("Dave",))
        s.add(PhaseStarted, phase=Phase.NIGHT, order=order)
        s.add(Message, phase=Phase.NIGHT, visible_to=("Bob", "Dave"), channel=Channel.MAFIA,
              sender="Dave", text="Kill Eve. Tomorrow we vote Alice.")
        s.add(PhaseStarted, order=order)
        bob = HeuristicPlayer(seed, 1)
        for i in range(3):
            said = answer(bob, s.request("Bob", Role.MAFIA, DecisionKind.DAY_ACTION,
                                         day_options("Bob"), index=i, order=order))
            if said.choice == SAY:
                leans += [p for p in SEATS if p in said.text]
        vote = answer(bob, s.request("Bob", Role.MAFIA, DecisionKind.VOTE,
                                     ("Alice", "Carol", "Dave", "Eve"), index=3, order=order))
        assert vote.choice == "Alice"
    assert leans and set(leans) == {"Alice"}, leans


def test_plan_phrasings_name_the_vote_for_teammates() -> None:
    from mafia.agents.heuristic.table import _kill_pattern, _vote_pattern

    for phrase in PHRASES["plan"]:
        assert _vote_pattern("Carol").search(phrase.format(name="Carol")), phrase
        assert not _kill_pattern("Carol").search(phrase.format(name="Carol")), phrase


def test_mafia_agree_on_one_kill_in_real_games() -> None:
    """All-heuristic games: every night with two or more mafia alive, they all choose the same
    target, and the first mafia message of the night proposes it."""
    nights = 0
    for seed in range(60):
        rules_ = make_rules(players=8, roles={"mafia": 3})
        result = run_game(Engine(rules_, seed, [HeuristicPlayer(seed, s) for s in range(8)]))
        kills: dict[int, list[str]] = {}
        first_chat: dict[int, str] = {}
        for e in result.events:
            if isinstance(e, NightAction) and e.action == "kill":
                kills.setdefault(e.day, []).append(e.target)
            elif isinstance(e, Message) and e.channel is Channel.MAFIA:
                first_chat.setdefault(e.day, e.text)
            elif isinstance(e, KillDecided) and len(kills[e.day]) > 1:
                nights += 1
                assert len(set(kills[e.day])) == 1 and not e.tie, (seed, e)
                proposed = tuple(p.format(name=e.target) for p in PHRASES["kill"])
                assert first_chat[e.day].startswith(proposed), (seed, first_chat[e.day])
    assert nights >= 60


def test_detective_claims_the_day_after_finding_a_living_mafia() -> None:
    """In real games: a detective alive at dawn after finding a living mafia opens its first
    public message of the day with the claim and the accusation, then votes that player."""
    checked = 0
    for seed in range(150):
        rules_ = make_rules()
        result = run_game(Engine(rules_, seed, [HeuristicPlayer(seed, s) for s in range(7)]))
        events = result.events
        for i, e in enumerate(events):
            if not (isinstance(e, InvestigationResult) and e.result == "mafia"):
                continue
            dawn = next(j for j in range(i, len(events))
                        if isinstance(events[j], PhaseStarted) and events[j].phase is Phase.DAY)
            dead = {d.player for d in events[:dawn + 3] if isinstance(d, PlayerDied)}
            if e.detective in dead or e.target in dead:
                continue
            if isinstance(events[dawn + 2], GameOver):
                continue  # the night's kill ended the game at dawn
            said = next(m for m in events[dawn:] if isinstance(m, Message)
                        and m.channel is Channel.PUBLIC and m.sender == e.detective)
            claims = {(c.kind, c.subject) for c in detect_claims(said.text, e.detective, SEAT_NAMES)}
            assert ("accuse", e.target) in claims, (seed, said.text)
            if ("role", e.detective) not in claims:  # claimed on an earlier day
                assert any(isinstance(m, Message) and m.sender == e.detective
                           and m.text.startswith(PHRASES["detective"]) for m in events[:i])
            vote = next(v for v in events[dawn:] if isinstance(v, VoteCast)
                        and v.voter == e.detective)
            assert vote.target == e.target or e.target not in result.state.alive, (seed, vote)
            checked += 1
    assert checked >= 40


# ---- it plays well ----------------------------------------------------------------------------


@dataclass
class Figures:
    games: int = 0
    town_wins: int = 0
    town_votes: int = 0
    town_hits: int = 0  # town votes on a mafia player
    mafia_votes: int = 0
    bus: int = 0  # mafia votes on a fellow mafia
    detective_votes: int = 0  # votes by a detective who knows a living mafia ...
    detective_hits: int = 0  # ... on such a player

    def line(self) -> str:
        return (f"town wins {self.town_wins}/{self.games} = {self.town_wins / self.games:.3f}; "
                f"town votes on mafia {self.town_hits}/{self.town_votes} = "
                f"{self.town_hits / self.town_votes:.3f}; mafia votes on mafia "
                f"{self.bus}/{self.mafia_votes} = {self.bus / self.mafia_votes:.3f}; "
                f"detective on found mafia {self.detective_hits}/{self.detective_votes}")


KINDS = {"random": RandomPlayer, "heuristic": HeuristicPlayer}


@lru_cache(maxsize=None)
def figures(town: str, mafia: str, games: int = 300) -> Figures:
    """Default rules, 7 players, seeds 0..games-1; town seats of one kind, mafia of another."""
    rules_ = make_rules()
    f = Figures()
    for seed in range(games):
        roles = deal_roles(rules_, seed)
        players = [KINDS[mafia if role is Role.MAFIA else town](seed, s)
                   for s, role in enumerate(roles.values())]
        result = run_game(Engine(rules_, seed, players))
        f.games += 1
        f.town_wins += result.winner.value == "town"
        alive, found = set(roles), set()
        for e in result.events:
            if isinstance(e, PlayerDied):
                alive.discard(e.player)
            elif isinstance(e, InvestigationResult) and e.result == "mafia":
                found.add(e.target)
            elif isinstance(e, VoteCast) and e.target is not None:
                hit = roles[e.target] is Role.MAFIA
                if roles[e.voter] is Role.MAFIA:
                    f.mafia_votes, f.bus = f.mafia_votes + 1, f.bus + hit
                else:
                    f.town_votes, f.town_hits = f.town_votes + 1, f.town_hits + hit
                known = found & alive
                if roles[e.voter] is Role.DETECTIVE and known:
                    f.detective_votes += 1
                    f.detective_hits += e.target in known
    print(f"{town} town vs {mafia} mafia: {f.line()}")
    return f


def test_heuristic_town_beats_random_mafia() -> None:
    base, town = figures("random", "random"), figures("heuristic", "random")
    # Measured: random vs random, town wins 36/300 = 0.120; heuristic town vs random mafia
    # 160/300 = 0.533. The town wins when it votes a mafia out on day 1 (in 7-seat games one
    # miss usually loses), which needs the detective's finding or a lucky consensus.
    assert base.town_wins / base.games < 0.2
    assert town.town_wins / town.games > 0.4
    # Measured town votes on mafia: random 670/1792 = 0.374, heuristic 1302/1973 = 0.660.
    assert base.town_hits / base.town_votes < 0.45
    assert town.town_hits / town.town_votes > 0.58


def test_heuristic_mafia_beats_random_mafia() -> None:
    base, mafia = figures("random", "random"), figures("random", "heuristic")
    # Measured against random town: random mafia win 264/300 = 0.880, heuristic mafia
    # 289/300 = 0.963 (two-proportion z = 3.8).
    z = two_proportion_z(mafia.games - mafia.town_wins, mafia.games,
                         base.games - base.town_wins, base.games)
    assert z is not None and z[0] > 2.0, z
    # Measured: heuristic mafia vote a teammate 16/788 = 0.020 (random mafia 127/834 = 0.152).
    assert mafia.bus / mafia.mafia_votes < 0.05
    assert base.bus / base.mafia_votes > 0.1


def test_detective_votes_the_mafia_it_found() -> None:
    town, base = figures("heuristic", "random"), figures("random", "random")
    # Measured: 230/230 (random detectives: 35/138 = 0.254).
    assert town.detective_votes >= 100
    assert town.detective_hits / town.detective_votes >= 0.9
    assert base.detective_hits / base.detective_votes < 0.5


def test_all_heuristic_games() -> None:
    """Both sides heuristic: the town still votes well and the mafia rarely vote a teammate
    (they do when the town surely votes that teammate out anyway)."""
    both = figures("heuristic", "heuristic")
    # Measured: town wins 196/300 = 0.653, town votes on mafia 1538/2073 = 0.742, mafia votes
    # on mafia 34/918 = 0.037, detective on found mafia 234/234.
    assert 0.4 < both.town_wins / both.games < 0.85
    assert both.town_hits / both.town_votes > 0.58
    assert both.bus / both.mafia_votes < 0.08
    assert both.detective_hits / both.detective_votes >= 0.9
