"""Play-quality figures of `mafia report` on hand-built transcripts whose answers are worked out
by hand below, plus one harness check: random players land near each random reference."""

from __future__ import annotations

import asyncio
import io
import math
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from transcripts import HandTranscript

from mafia.claims import Claim, detect_claims, detect_findings
from mafia.config import make_rules
from mafia.engine import Engine
from mafia.events import (
    InvestigationResult, KillDecided, LastWords, Message, ModelCall, NightAction, NobodyDied,
    PhaseStarted, PlayerDied,
)
from mafia.report.build import build_report
from mafia.report.json_out import report_json
from mafia.report.load import load_games
from mafia.report.quality import chance_to_name, quality
from mafia.report.render import render
from mafia.report.speech import bigram_variety, is_degenerate, normalise, words
from mafia.transcript import TranscriptWriter

from mafia.agents.random_player import RandomPlayer


def _transcript(roles: dict[str, str], agents: dict[str, dict[str, Any]],
                **rules: Any) -> HandTranscript:
    config = make_rules(players=len(roles), **rules).model_dump(mode="json")
    return HandTranscript(config, roles, agents)


def _night(t: HandTranscript, day: int, acts: list[tuple[str, str, str]], kill: str) -> None:
    t.add(PhaseStarted, day, "night")
    for actor, action, target in acts:
        t.add(NightAction, day, "night", [actor], actor=actor, action=action, target=target)
    t.add(KillDecided, day, "night", ["Alice", "Bob"], target=kill, tally={kill: 2}, tie=False)


def _six(path: Path, **rules: Any) -> Path:
    """Alice and Bob mafia, Carol detective (spec "tiny"), Dave doctor, Eve and Frank villagers.

    Night 1: the kill on Eve is saved (Dave protects Eve); Carol finds Alice. Day 1: public
    accusations of Alice (by Carol), Carol (by Alice, who also claims detective) and Bob (by
    Frank); Frank is voted out and accuses Bob in his last words. Night 2: Dave is killed (he
    protected Carol); Carol finds Bob. Day 2: Carol only asks Eve a question; Eve accuses
    dead Frank and Carol; Eve is voted out; mafia win."""
    t = _transcript({"Alice": "mafia", "Bob": "mafia", "Carol": "detective", "Dave": "doctor",
                     "Eve": "villager", "Frank": "villager"},
                    {"Carol": {"kind": "llm", "spec": "tiny", "model": "Tiny"}}, **rules)
    _night(t, 1, [("Alice", "kill", "Eve"), ("Bob", "kill", "Eve"), ("Dave", "protect", "Eve"),
                  ("Carol", "investigate", "Alice")], kill="Eve")
    t.add(InvestigationResult, 1, "night", ["Carol"], detective="Carol", target="Alice",
          result="mafia")
    t.add(PhaseStarted, 1, "day")
    t.add(NobodyDied, 1, "day")
    t.say(1, "Carol", "I checked Alice: mafia. Alice is mafia.")
    t.say(1, "Alice", "I am the detective. Carol is lying.")
    t.say(1, "Eve", "I trust Bob.")
    t.say(1, "Frank", "vote for Bob")
    t.add(Message, 1, "day", ["Dave", "Frank"], channel="dm", sender="Dave", recipient="Frank",
          text="I am the doctor")
    t.say(1, "Bob", "Dave is town.")
    t.votes(1, [("Alice", "Carol"), ("Bob", "Carol"), ("Carol", "Alice"), ("Dave", "Frank"),
                ("Eve", "Frank"), ("Frank", "Bob")], out="Frank", dies=False)
    t.add(LastWords, 1, "day", player="Frank", text="Bob is mafia, I am a villager.")
    t.add(PlayerDied, 1, "day", player="Frank", cause="vote", role="villager", team="town")
    _night(t, 2, [("Alice", "kill", "Dave"), ("Bob", "kill", "Dave"),
                  ("Dave", "protect", "Carol"), ("Carol", "investigate", "Bob")], kill="Dave")
    t.add(Message, 2, "night", ["Alice", "Bob"], channel="mafia", sender="Alice",
          text="Carol is the detective.")
    t.add(InvestigationResult, 2, "night", ["Carol"], detective="Carol", target="Bob",
          result="mafia")
    t.add(PhaseStarted, 2, "day")
    t.add(PlayerDied, 2, "day", player="Dave", cause="night", role="doctor", team="town")
    t.say(2, "Carol", "Eve, what do you think?")
    t.say(2, "Eve", "I trust Bob.")
    t.say(2, "Eve", "Frank is lying. Carol is sus.")
    t.votes(2, [("Alice", "Eve"), ("Bob", "Eve"), ("Carol", "Bob"), ("Eve", "Carol")],
            out="Eve")
    return t.write(path, "mafia", 2)


def _tally(votes: int, hits: int, random: float, unit: str = "votes") -> dict[str, Any]:
    return {unit: votes, "hits": hits, "rate": pytest.approx(hits / votes),
            "random": pytest.approx(random)}


def test_the_claim_detector_reads_the_hand_built_lines() -> None:
    seats = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank"]
    assert detect_claims("I checked Alice: mafia. Alice is mafia.", "Carol", seats) == [
        Claim("accuse", "Carol", "Alice", "mafia")]  # one claim per subject
    assert detect_claims("I am the detective. Carol is lying.", "Alice", seats) == [
        Claim("role", "Alice", "Alice", "detective"), Claim("accuse", "Alice", "Carol", "mafia")]
    assert detect_claims("Bob is mafia, I am a villager.", "Frank", seats) == [
        Claim("role", "Frank", "Frank", "villager"), Claim("accuse", "Frank", "Bob", "mafia")]
    assert detect_claims("Eve, what do you think?", "Carol", seats) == []
    assert detect_claims("Frank is lying. Carol is sus.", "Eve", seats) == [
        Claim("accuse", "Eve", "Frank", "mafia"), Claim("accuse", "Eve", "Carol", "mafia")]
    assert detect_claims("I trust Bob.", "Eve", seats) == [Claim("clear", "Eve", "Bob", "town")]
    assert detect_claims("Carol is the detective.", "Alice", seats) == [
        Claim("clear", "Alice", "Carol", "detective")]
    # a claimed check, told apart from other accusations
    assert detect_findings("I checked Alice: mafia. Bob is mafia.", "Carol", seats) == [
        Claim("accuse", "Carol", "Alice", "mafia")]
    assert detect_findings("I investigated Dave, he is innocent", "Carol", seats) == [
        Claim("clear", "Carol", "Dave", "town")]
    assert detect_findings("Did you check Bob: mafia?", "Carol", seats) == []
    assert detect_findings("Bob is lying.", "Carol", seats) == []


def test_votes_that_follow_a_public_accusation(tmp_path: Path) -> None:
    """Day 1, six alive, so every voter has 5 others. Accused before the vote: Alice, Carol,
    Bob. Alice->Carol hit (accused others: Carol, Bob = 2/5), Bob->Carol hit (2/5), Carol->Alice
    hit (2/5), Dave->Frank miss (3/5), Eve->Frank miss (3/5), Frank->Bob hit (3/5). Frank's
    last words come after the vote. Day 2, four alive: accused dead Frank and Carol, so each
    voter but Carol has 1 accused among 3 others: Alice->Eve miss (1/3), Bob->Eve miss (1/3),
    Carol->Bob miss (0), Eve->Carol hit (1/3). All: 10 votes, 5 hits, expected 3 + 1 = 4.
    Town voters (Carol, Dave, Eve, Frank; Carol, Eve): 6 votes, 3 hits, expected 11/5 + 1/3.
    Mafia: 4 votes, 2 hits, expected 4/5 + 2/3. Carol (tiny): 2 votes, 1 hit, expected 2/5."""
    q = report_json(build_report(_six(tmp_path / "g.jsonl"), bootstrap=0, baseline_games=0))
    f = q["quality"]["follow_accusation"]
    assert {k: f[k] for k in ("votes", "hits", "rate", "random")} == _tally(10, 5, 4 / 10)
    assert f["by_team"] == {"mafia": _tally(4, 2, (0.8 + 2 / 3) / 4),
                            "town": _tally(6, 3, (2.2 + 1 / 3) / 6)}
    assert f["by_spec"] == {"random": _tally(8, 4, 3.6 / 8), "tiny": _tally(2, 1, 0.4 / 2)}


def test_detective_naming_and_doctor_saves(tmp_path: Path) -> None:
    """Detective days. Day 1: Carol knows Alice (alive); others 5; she names and accuses only
    Alice: hit both, chance 1 - C(4,1)/C(5,1) = 1/5. Day 2 (Dave died at dawn): she knows
    Alice and Bob; others Alice, Bob, Eve; she names Eve only (a question, no claim): a miss,
    chance 1 - C(1,1)/C(3,1) = 2/3 for naming, 0 for accusing (nobody accused). So naming 1 of
    2 days, random (1/5 + 2/3)/2; accusing 1 of 2, random (1/5)/2.
    Doctor: night 1 kill on Eve, Dave protects Eve, nobody dies: saved; a random protect
    over the 6 alive hits Eve 1/6. Night 2 kill on Dave, he protected Carol, Dave dies; random
    1/5 of 5 alive. 1 of 2 nights, random (1/6 + 1/5)/2."""
    q = report_json(build_report(_six(tmp_path / "g.jsonl"), bootstrap=0,
                                 baseline_games=0))["quality"]
    names = _tally(2, 1, (1 / 5 + 2 / 3) / 2, "days")
    assert q["detective_names_found"] == {**names, "by_spec": {"tiny": names}}
    accuses = _tally(2, 1, (1 / 5) / 2, "days")
    assert q["detective_accuses_found"] == {**accuses, "by_spec": {"tiny": accuses}}
    saves = _tally(2, 1, (1 / 6 + 1 / 5) / 2, "nights")
    assert q["doctor_saves"] == {**saves, "by_spec": {"random": saves}}


@pytest.mark.parametrize(("rules", "random"), [
    # Night 1: 6 alive, no self save: 5 options, Eve among them. Night 2: Dave, the target,
    # may not protect himself: 0.
    ({"doctor_self_save": False}, (1 / 5 + 0) / 2),
    # Night 2: Eve, protected the night before, may not be again: 4 options of 5 alive.
    ({"doctor_repeat_save": False}, (1 / 6 + 1 / 4) / 2),
])
def test_doctor_reference_follows_the_protect_rules(tmp_path: Path, rules: dict[str, bool],
                                                    random: float) -> None:
    q = report_json(build_report(_six(tmp_path / "g.jsonl", **rules), bootstrap=0,
                                 baseline_games=0))["quality"]
    assert q["doctor_saves"]["random"] == pytest.approx(random)


def test_claims_true_and_false_by_team(tmp_path: Path) -> None:
    """Public town: Carol accuses Alice (true); Frank accuses Bob twice, message and last words
    (true); Frank claims villager (true); Eve clears Bob twice (false) and accuses Frank and
    Carol (false); Carol's question holds none. Public mafia: Alice claims detective and accuses Carol (both false); Bob clears Dave
    (true): lies 2 of 3. Private: Dave's DM claims doctor (true); Alice tells the mafia channel
    Carol is the detective (true). Town accusations of living others: day 1 three, all on
    mafia, each speaker with 5 living others, 2 of them mafia (2/5); day 2 Eve's of Carol, a
    miss, with Alice, Bob, Carol alive besides her (2/3); her accusation of dead Frank is left
    out. 4 accusations, 3 hits, expected 3 x 2/5 + 2/3."""
    q = report_json(build_report(_six(tmp_path / "g.jsonl"), bootstrap=0,
                                 baseline_games=0))["quality"]

    def counts(messages: int, with_claims: int, role: tuple[int, int], accuse: tuple[int, int],
               clear: tuple[int, int]) -> dict[str, Any]:
        return {"messages": messages, "with_claims": with_claims,
                **{k: {"claims": n, "true": t}
                   for k, (n, t) in (("role", role), ("accuse", accuse), ("clear", clear))}}

    assert q["claims"] == {
        "public": {"town": counts(7, 6, (1, 1), (5, 3), (2, 0)),
                   "mafia": counts(2, 2, (1, 0), (1, 0), (1, 1))},
        "private": {"town": counts(1, 1, (1, 1), (0, 0), (0, 0)),
                    "mafia": counts(1, 1, (0, 0), (0, 0), (1, 1))}}
    lies = q["mafia_lies"]
    assert (lies["k"], lies["n"]) == (2, 3) and lies["by_spec"]["random"]["k"] == 2
    acc = _tally(4, 3, (1.2 + 2 / 3) / 4, "accusations")
    assert {k: q["town_accusations"][k] for k in acc} == acc
    assert q["town_accusations"]["by_spec"] == {
        "random": _tally(3, 2, (0.8 + 2 / 3) / 3, "accusations"),
                                                "tiny": _tally(1, 1, 2 / 5, "accusations")}


def _talk(path: Path) -> Path:
    """Alice mafia (spec "tiny": two text calls of 12 and 8 tokens, one choice call of 3),
    Bob doctor, Carol detective, Dave villager. Messages, in order:
    M1 Alice public "Hello, Bob."        2 words, variety 1/1, short, names Bob
    M2 Bob public "  HELLO,   bob!! "    2 words, 1/1, short, a repeat of M1, only his own name
    M3 Carol DM "(ii) Dave is"           3 words (ii counts), 2/2, short once "(ii)" is dropped
    M4 Dave public "the the the the Carol"  5 words, 2 distinct of 4 bigrams, names Carol
    M5 Carol last words "1. 2. 3."       3 words, 2/2, short (all enumerators), names nobody
    (Carol dies)
    M6 Dave public "Carol was town, sad" 4 words, 3/3, names only dead Carol
    M7 Alice mafia channel "Hello, Bob"  2 words, 1/1, short, a repeat of M1 (any channel)
    M8 Bob public "Ok"                   1 word, no bigram, short"""
    t = _transcript({"Alice": "mafia", "Bob": "doctor", "Carol": "detective",
                     "Dave": "villager"}, {"Alice": {"kind": "llm", "spec": "tiny"}})
    t.add(PhaseStarted, 1, "day")
    for tokens, purpose in ((12, "text"), (3, "choice"), (8, "text")):
        t.add(ModelCall, 1, "day", ["Alice"], player="Alice", decision="day_action",
              purpose=purpose, prompt_tokens=40, reused_tokens=0, generated_tokens=tokens,
              latency_ms=1.0)
    t.say(1, "Alice", "Hello, Bob.")
    t.say(1, "Bob", "  HELLO,   bob!! ")
    t.add(Message, 1, "day", ["Carol", "Dave"], channel="dm", sender="Carol", recipient="Dave",
          text="(ii) Dave is")
    t.say(1, "Dave", "the the the the Carol")
    t.votes(1, [("Alice", "Carol"), ("Bob", "Carol"), ("Carol", "Dave"), ("Dave", "Carol")],
            out="Carol", dies=False)
    t.add(LastWords, 1, "day", player="Carol", text="1. 2. 3.")
    t.add(PlayerDied, 1, "day", player="Carol", cause="vote", role="detective", team="town")
    t.add(PhaseStarted, 2, "night")
    t.add(Message, 2, "night", ["Alice"], channel="mafia", sender="Alice", text="Hello, Bob")
    t.add(PhaseStarted, 2, "day")
    t.say(2, "Dave", "Carol was town, sad")
    t.say(2, "Bob", "Ok")
    return t.write(path, "draw", 2)


def test_speech_figures(tmp_path: Path) -> None:
    """All 8 messages: repeats M2, M7 = 2/8; variety over the 7 with a bigram: (6 x 1 + 0.5)/7;
    short M1 M2 M3 M5 M7 M8 = 6/8; words 2+2+3+5+3+4+2+1 = 22, 22/8; public M1 M2 M4 M5 M6 M8,
    naming M1 M4 = 2/6. Tiny (Alice: M1, M7): repeat 1/2, variety 1, short 2/2, words 2, public
    1 naming 1, 2 text calls of 20 tokens -> 10. Random (the other 6): repeat 1/6, variety
    4.5/5, short 4/6, 18 words -> 3, naming 1 of 5 public, no model calls.
    Public messages (last words not counted): Alice 1, Bob 2, Carol 0, Dave 2 of 5; equal share
    1/4: ratios 0.8, 1.6, 0, 1.6 -> least Carol 0, most Dave 1.6 (the tie goes to the later
    name)."""
    q = report_json(build_report(_talk(tmp_path / "t.jsonl"), bootstrap=0,
                                 baseline_games=0))["quality"]["speech"]
    approx = pytest.approx
    truth = {"absent_names", "absent_rate", "called_dead", "called_dead_rate",  # test_truth.py
             "detective_reports", "detective_contradicted", "detective_contradicted_rate",
             "kill_proposals", "dead_kill_proposals", "pooled_bigram_variety"}
    assert {k: q[k] for k in q if k not in ("by_spec", "speaking_balance", *truth)} == {
        "messages": 8, "repeats": 2, "repeat_rate": 0.25, "bigram_variety": approx(6.5 / 7),
        "degenerate": 6, "degenerate_rate": 0.75, "words_per_message": 2.75, "public": 6,
        "naming": 2, "naming_rate": approx(1 / 3), "text_calls": 2, "tokens_per_text_call": 10}
    tiny, rnd = q["by_spec"]["tiny"], q["by_spec"]["random"]
    assert (tiny["messages"], tiny["repeats"], tiny["bigram_variety"], tiny["degenerate"],
            tiny["words_per_message"], tiny["naming_rate"], tiny["tokens_per_text_call"]) == (
        2, 1, 1.0, 2, 2.0, 1.0, 10.0)
    assert (rnd["messages"], rnd["repeats"], rnd["bigram_variety"], rnd["degenerate"],
            rnd["words_per_message"], rnd["public"], rnd["naming"],
            rnd["tokens_per_text_call"]) == (6, 1, approx(0.9), 4, 3.0, 5, 1, None)
    assert q["speaking_balance"] == {"min": {"seat": "Carol", "ratio": 0.0},
                                     "max": {"seat": "Dave", "ratio": approx(1.6)}}


@pytest.mark.parametrize(("text", "short"), [
    ("I trust Bob.", False), ("Hi Bob", True), ("(ii) Carol is", True), ("iii) -", True),
    ("1. I trust Bob", False), ("- vote Bob", True), ("(i) (ii) (iii) (iv)", True),
    ("a) b) c)", True), ("Carol is (ii)", True), ("1. 2. 3. vote Bob now", False), ("", True),
])
def test_degenerate_lines(text: str, short: bool) -> None:
    assert is_degenerate(text) is short


def test_text_helpers() -> None:
    assert normalise("  \"Vote   BOB!\"  ") == normalise("vote bob") == "vote bob"
    assert normalise("Vote, Bob") != normalise("Vote Bob")  # inner punctuation stays
    assert words("Don't vote Bob, (ii)") == ["don't", "vote", "bob", "ii"]
    assert bigram_variety(words("a b a b")) == pytest.approx(2 / 3)
    assert bigram_variety(["one"]) is None
    assert chance_to_name(5, 1, 1) == pytest.approx(1 / 5)
    assert chance_to_name(3, 2, 2) == 1.0  # two of three, two of them sought: always a hit
    assert chance_to_name(4, 1, 2) == pytest.approx(1 / 2)
    assert chance_to_name(4, 1, 0) == 0.0


class _Accuser(RandomPlayer):
    """Random choices; every line accuses or clears a random living other player."""

    def _line(self, request: Any) -> str:
        obs = request.observation
        others = [p for p in obs.alive if p != request.player] or [request.player]
        return self.rng.choice(("I suspect {n}.", "{n} is suspicious.", "I trust {n}.",
                                "Vote for {n}!")).format(n=self.rng.choice(others))


def test_random_players_land_near_each_random_reference(tmp_path: Path) -> None:
    """Random votes, protects and accusations are independent of who was accused, found or
    targeted, so each hit count is near its expectation: within 4 standard deviations, the
    variance of a sum of independent trials being at most n/4."""
    rules = make_rules()
    for seed in range(150):
        with TranscriptWriter(tmp_path / f"g{seed}.jsonl") as writer:
            players = [_Accuser(seed, seat) for seat in range(rules.players)]
            asyncio.run(Engine(rules, seed, players, sinks=[writer]).run())
    q = quality(load_games(tmp_path).games)
    for name in ("follow", "names_known", "accuses_known", "saves", "town_accusations"):
        t = getattr(q, name).all
        assert t.votes > 40 and t.expected > 5, name  # enough data to mean something
        assert abs(t.hits - t.expected) <= 4 * math.sqrt(t.votes / 4), (name, t)


def test_quality_tables_render_within_80_columns(tmp_path: Path) -> None:
    _six(tmp_path / "a.jsonl")
    _talk(tmp_path / "b.jsonl")
    data = report_json(build_report(tmp_path, bootstrap=0, baseline_games=0))
    console = Console(file=io.StringIO(), width=80, highlight=False)
    for part in render(data):
        console.print(part)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Play quality" in text and "Speech by model" in text
    assert "votes on a player accused that day" in text and "  model tiny" in text
    assert max(len(line) for line in text.splitlines()) <= 80
