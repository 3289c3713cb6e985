"""`mafia report`: a folder of random games (two player kinds), an unfinished transcript and a
non-transcript; counts, JSON keys, hand-checked metrics, plots and one-line errors."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from rich.console import Console
from transcripts import HandTranscript

from mafia.cli import main
from mafia.config import make_rules
from mafia.engine import Engine
from mafia.enums import Phase
from mafia.events import (
    BaseEvent, GameOver, GameStarted, InvalidAction, InvestigationResult, KillDecided, Message,
    ModelCall, NightAction, NobodyDied, PhaseStarted, PlayerDied, RoleAssigned, VoteCast,
    VoteResult,
)
from mafia.report.behaviour import behaviour
from mafia.report.build import build_report
from mafia.report.json_out import report_json
from mafia.report.load import load_games, seat_spec
from mafia.report.plots import write_plots
from mafia.report.render import render
from mafia.transcript import TranscriptWriter

from mafia.agents.random_player import RandomPlayer

GAMES = 40  # seed 35 has a detective voting after the mafia they found died
PNG = b"\x89PNG\r\n\x1a\n"
TOP_KEYS = {"path", "transcripts", "games", "skipped", "warnings", "agents", "rules",
            "rule_sets", "builds", "wins", "teams", "models", "rating", "behaviour", "quality",
            "protocols", "baseline"}
MODEL_KEYS = {"games", "seat_games", "win", "survival", "invalid_actions", "decisions",
              "invalid_rate", "tokens_per_game", "prompt_tokens_per_game", "seconds_per_game",
              "roles", "teams", "town_games", "prompt_tokens_per_spec_game", "rating",
              "town_vote_accuracy"}


class OtherRandom(RandomPlayer):
    """A second kind of player: random too, but reported under its own spec."""

    def describe(self) -> dict[str, Any]:
        return {"kind": "random", "spec": "random2"}


def _players(seed: int, n: int) -> list[RandomPlayer]:
    return [(OtherRandom if (seat + seed) % 2 else RandomPlayer)(seed, seat) for seat in range(n)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep")
    rules = make_rules()
    for seed in range(GAMES):
        with TranscriptWriter(out / f"game-{seed:06d}.jsonl") as writer:
            asyncio.run(Engine(rules, seed, _players(seed, rules.players), sinks=[writer]).run())
    events: list[BaseEvent] = []
    asyncio.run(Engine(rules, 99, _players(99, rules.players), sinks=[events.append]).run())
    (out / "game-000099.jsonl").write_text(  # a game killed before its end
        "".join(e.model_dump_json() + "\n" for e in events[:40]))
    (out / "notes.jsonl").write_text('{"hello": 1}\nnot json\n')
    (out / "README.txt").write_text("not a transcript, not *.jsonl: ignored\n")
    return out


def test_seat_spec_names_each_kind_of_player() -> None:
    assert seat_spec({"kind": "random"}) == "random"
    assert seat_spec({"kind": "random", "spec": "random2"}) == "random2"
    assert seat_spec({"kind": "scripted", "name": "s1"}) == "scripted"
    assert seat_spec({"kind": "llm", "spec": "gemma3-270m", "model": "Gemma"}) == "gemma3-270m"
    assert seat_spec({"kind": "llm", "model": "Gemma"}) == "Gemma"


def test_report_counts_games_and_skips_the_rest(folder: Path) -> None:
    data = report_json(build_report(folder, bootstrap=20, baseline_games=0))
    assert set(data) == TOP_KEYS
    assert data["transcripts"] == GAMES + 2 and data["games"] == GAMES
    assert sorted(s["file"] for s in data["skipped"]) == ["game-000099.jsonl", "notes.jsonl"]
    assert "unfinished" in {s["file"]: s["reason"] for s in data["skipped"]}["game-000099.jsonl"]
    assert sum(data["wins"].values()) == GAMES
    assert data["teams"]["town"]["k"] == data["wins"]["town"]
    assert set(data["models"]) == {"random", "random2"}
    odd = sum((j + g) % 2 for g in range(GAMES) for j in range(7))  # OtherRandom seats
    seats = {"random": GAMES * 7 - odd, "random2": odd}
    for spec, m in data["models"].items():
        assert set(m) == MODEL_KEYS
        assert m["seat_games"] == seats[spec] == data["agents"][spec]["seat_games"]
        assert sum(r["seat_games"] for r in m["roles"].values()) == m["seat_games"]
        assert m["invalid_actions"] == 0 and m["decisions"] > 0
        # Both specs hold a town seat in every game (only 2 of 7 seats are mafia).
        assert (m["town_games"]["k"], m["town_games"]["n"]) == (data["wins"]["town"], GAMES)
    assert data["baseline"] is None and data["rating"]["games"] == GAMES - data["wins"]["draw"]


def test_vote_metrics_match_an_independent_count(folder: Path) -> None:
    """Recompute town accuracy, bus rate, detective follow-through and detective votes on
    cleared players from raw JSON lines."""
    town, bus, det = [0, 0, 0.0], [0, 0], [0, 0]  # votes, hits(, random expectation)
    cleared_votes = [0, 0]
    for path in (folder / f"game-{seed:06d}.jsonl" for seed in range(GAMES)):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        roles = records[-1]["roles"]
        alive = [p["name"] for p in records[0]["players"]]
        found: set[str] = set()
        cleared: set[str] = set()
        for rec in records:
            if rec["kind"] == "player_died":
                alive.remove(rec["player"])
            if rec["kind"] == "investigation_result":
                (found if rec["result"] == "mafia" else cleared).add(rec["target"])
            if rec["kind"] != "vote_cast":
                continue
            voter, target = rec["voter"], rec["target"]
            others = [p for p in alive if p != voter]
            if roles[voter] == "mafia":
                bus[0] += 1
                bus[1] += roles[target] == "mafia"
                continue
            town[0] += 1
            town[1] += roles[target] == "mafia"
            town[2] += sum(roles[p] == "mafia" for p in others) / len(others)
            if roles[voter] == "detective" and found & set(alive):
                det[0] += 1
                det[1] += target in found & set(alive)
            elif roles[voter] == "detective" and cleared & set(others):
                cleared_votes[0] += 1
                cleared_votes[1] += target in cleared
    b = behaviour(load_games(folder).games)  # the unfinished game is not among them
    assert town[0] > 0 and bus[0] > 0 and det[0] > 0
    assert (b.town.votes, b.town.hits) == tuple(town[:2])
    assert b.town.expected == pytest.approx(town[2])
    assert (b.bus.votes, b.bus.hits) == tuple(bus)
    assert (b.detective.votes, b.detective.hits) == tuple(det)
    assert cleared_votes[0] > 0
    assert (b.detective_cleared.votes, b.detective_cleared.hits) == tuple(cleared_votes)


def _tiny_game(path: Path) -> None:
    """Alice (mafia) kills Bob (doctor, an llm seat whose protect answer was refused);
    Dave (detective) finds Alice; Carol and Dave vote Alice out. Town wins on day 1."""
    ev: list[BaseEvent] = []

    def add(cls: type[BaseEvent], day: int, phase: str, seen: list[str] | None = None,
            **fields: Any) -> None:
        ev.append(cls(seq=len(ev), day=day, phase=Phase(phase),
                      visible_to=None if seen is None else tuple(seen), **fields))

    roles = {"Alice": "mafia", "Bob": "doctor", "Carol": "villager", "Dave": "detective"}
    agents = {"Bob": {"kind": "llm", "spec": "tiny", "model": "Tiny"}}
    add(GameStarted, 0, "setup", seed=1, version="t", config=make_rules(players=4).model_dump(
        mode="json"), players=[{"name": n, "agent": agents.get(n, {"kind": "random"})}
                               for n in roles])
    for name, role in roles.items():
        add(RoleAssigned, 0, "setup", [name], player=name, role=role,
            team="mafia" if role == "mafia" else "town")
    add(PhaseStarted, 1, "night")
    add(ModelCall, 1, "night", ["Bob"], player="Bob", decision="protect", purpose="choice",
        prompt_tokens=50, reused_tokens=0, generated_tokens=2, latency_ms=400.0)
    # a second choice call of the same request (calibration): still one decision
    add(ModelCall, 1, "night", ["Bob"], player="Bob", decision="protect", purpose="choice",
        prompt_tokens=20, reused_tokens=6, generated_tokens=0, latency_ms=0.0, shared_tokens=4)
    add(InvalidAction, 1, "night", ["Bob"], player="Bob", decision="protect", got="'Zed'",
        error="not legal", fallback="Carol")
    add(NightAction, 1, "night", ["Alice"], actor="Alice", action="kill", target="Bob")
    add(NightAction, 1, "night", ["Bob"], actor="Bob", action="protect", target="Carol")
    add(NightAction, 1, "night", ["Dave"], actor="Dave", action="investigate", target="Alice")
    add(KillDecided, 1, "night", ["Alice"], target="Bob", tally={"Bob": 1}, tie=False)
    add(InvestigationResult, 1, "night", ["Dave"], detective="Dave", target="Alice",
        result="mafia")
    add(PhaseStarted, 1, "day")
    add(PlayerDied, 1, "day", player="Bob", cause="night", role="doctor", team="town")
    add(Message, 1, "day", channel="public", sender="Carol", text="hi")
    add(Message, 1, "day", ["Dave", "Carol"], channel="dm", sender="Dave", recipient="Carol",
        text="Alice")
    add(Message, 1, "day", ["Carol", "Dave"], channel="dm", sender="Carol", recipient="Dave",
        text="ok")
    for voter, target in (("Alice", "Carol"), ("Carol", "Alice"), ("Dave", "Alice")):
        add(VoteCast, 1, "day", voter=voter, target=target)
    add(VoteResult, 1, "day", tally={"Alice": 2, "Carol": 1}, eliminated="Alice", tie=False)
    add(PlayerDied, 1, "day", player="Alice", cause="vote", role="mafia", team="mafia")
    add(GameOver, 1, "end", winner="town", reason="no mafia left alive", roles=roles, days=1)
    path.write_text("".join(e.model_dump_json() + "\n" for e in ev))


def test_games_recorded_before_a_rule_existed_share_one_rule_set(tmp_path: Path) -> None:
    """A sweep resumed after a new rule was added holds games with and without that key;
    the old ones played under its default, so the report sees one rule set, no warning."""
    _tiny_game(tmp_path / "new.jsonl")
    lines = (tmp_path / "new.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    del first["config"]["typing_events"]  # a rule added later, at its default
    (tmp_path / "old.jsonl").write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")
    r = build_report(tmp_path, bootstrap=0, baseline_games=0)
    assert r.loaded.transcripts == 2 and r.configs == 1 and not r.warnings
    first["config"]["max_days"] = 3  # a rule that really differs still warns
    (tmp_path / "old.jsonl").write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")
    r = build_report(tmp_path, bootstrap=0, baseline_games=0)
    assert r.configs == 2 and any("2 different rule sets" in w for w in r.warnings)


def test_hand_made_game_gives_hand_computed_figures(tmp_path: Path) -> None:
    _tiny_game(tmp_path / "tiny.jsonl")
    data = report_json(build_report(tmp_path, bootstrap=0, baseline_games=0))
    assert data["wins"] == {"town": 1, "mafia": 0, "draw": 0}
    tiny, rnd = data["models"]["tiny"], data["models"]["random"]
    # Bob: one refused protect answer after two choice calls = 1 decision, 1 invalid.
    assert (tiny["decisions"], tiny["invalid_actions"], tiny["invalid_rate"]) == (1, 1, 1.0)
    assert (tiny["tokens_per_game"], tiny["seconds_per_game"]) == (2, pytest.approx(0.4))
    # prompt tokens evaluated: 50 + (20 - 6 reused - 4 copied from another seat)
    assert tiny["prompt_tokens_per_game"] == tiny["prompt_tokens_per_spec_game"] == 60
    assert rnd["prompt_tokens_per_game"] == 0
    assert (tiny["survival"], tiny["win"]["k"]) == (0.0, 1)
    assert (tiny["town_games"]["k"], tiny["town_games"]["n"]) == (1, 1)
    # Random seats: Alice kill + vote, Carol vote, Dave investigate + vote.
    assert (rnd["seat_games"], rnd["decisions"], rnd["win"]["k"]) == (3, 5, 2)
    assert rnd["survival"] == pytest.approx(2 / 3)
    b = data["behaviour"]
    # Carol and Dave vote Alice; each had 2 others alive, 1 of them mafia: random = 1/2.
    assert b["town_vote_accuracy"] == {"votes": 2, "hits": 2, "rate": 1.0, "random": 0.5}
    assert b["detective_follow_through"] == {"votes": 1, "hits": 1, "rate": 1.0, "random": 0.5}
    assert b["bus_rate"] == {"votes": 1, "hits": 0, "rate": 0.0, "random": 0.0}
    assert b["mafia_together"] == {"days": 0, "hits": 0, "rate": None, "random": None}
    assert b["most_accused"] == {"days": 1, "mafia_share": 1.0, "vote_share": pytest.approx(2 / 3),
                                 "distinct_targets": 2.0}
    assert b["vote_reciprocity"] == pytest.approx(2 / 3)  # Alice<->Carol, Dave->Alice
    assert b["dms"] == {"count": 2, "per_living_player_per_day": pytest.approx(2 / 3),
                        "mafia-mafia": 0.0, "town-town": 1.0, "cross": 0.0, "reciprocity": 1.0}
    assert b["speaking"]["max_deviation"] == pytest.approx(0.75)  # Carol: 100% vs 25%
    assert data["models"]["random"]["town_vote_accuracy"]["rate"] == 1.0


def test_report_is_deterministic_and_renders_within_80_columns(folder: Path) -> None:
    first = report_json(build_report(folder, bootstrap=30, seed=1, baseline_games=30))
    again = report_json(build_report(folder, bootstrap=30, seed=1, baseline_games=30))
    assert json.dumps(first) == json.dumps(again)
    assert first["baseline"]["games"] == 30 and set(first["baseline"]["models"]) == {
        "random", "random2"}
    console = Console(file=io.StringIO(), width=80, highlight=False)
    for part in render(first):
        console.print(part)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    for title in ("Teams (per game)", "Models by role", "Rating", "Behaviour", "Play quality",
                  "Speech by model", "Town win rate vs random play",
                  "skipped game-000099.jsonl"):
        assert title in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_cli_json_and_plots(folder: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "mafia", "report", str(folder), "--json",
                           "--baseline-games", "200", "--plots", str(tmp_path / "plots")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # stdout is the JSON object and nothing else
    assert set(data) == TOP_KEYS and data["games"] == GAMES and len(data["skipped"]) == 2
    assert sum(data["wins"].values()) == data["games"]
    base = data["baseline"]
    assert base["games"] == 200 and sum(base["winners"].values()) == 200
    for c in base["models"].values():
        assert 0 <= c["p"] <= 1 and c["significant"] == (c["p"] < 0.05)
    pngs = sorted((tmp_path / "plots").iterdir())
    assert [p.name for p in pngs] == ["rating.png", "votes_per_day.png", "winrate.png"]
    assert all(p.read_bytes()[:8] == PNG for p in pngs)


def test_plots_from_the_function(folder: Path, tmp_path: Path) -> None:
    paths = write_plots(report_json(build_report(folder, bootstrap=5, baseline_games=0)),
                        tmp_path / "p")
    assert len(paths) == 3 and all(p.read_bytes()[:8] == PNG for p in paths)


def _error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["report", *args, "--baseline-games", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


def test_user_errors_are_one_line(tmp_path: Path, folder: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file or folder" in _error(capsys, str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    assert "no transcripts" in _error(capsys, str(tmp_path / "empty"))
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "a.jsonl").write_text(
        (folder / "game-000099.jsonl").read_text())
    assert "no finished games" in _error(capsys, str(tmp_path / "cut"))
    (tmp_path / "file").write_text("x")
    assert "cannot write plots" in _error(capsys, str(folder), "--plots",
                                          str(tmp_path / "file" / "plots"))


ROLES4 = {"Alice": "mafia", "Bob": "doctor", "Carol": "detective", "Dave": "villager"}


def _clock_game(path: Path) -> None:
    """Two clock days. Reply delays, worked out by hand (started minus the latest message
    the author could see that day, landed at or before `started`; 0 if none):
    day 1: Bob's DM 0 (nothing yet); Alice 0; Carol 5 - 3 (Alice) = 2; Dave's DM
    11 - 7 (Carol) = 4; Bob 17 - 7 = 10 (Dave's DM at 13 is not his to see);
    day 2: Carol 5 - 0 = 5 (yesterday's messages do not count)."""
    g = HandTranscript(make_rules(players=4, discussion="clock", first_phase="day").model_dump(
        mode="json"), ROLES4)
    g.add(PhaseStarted, 1, "day")
    g.say(1, "Bob", "Carol, who did you check?", to="Carol", started=0.0, t=2.0)
    g.say(1, "Alice", "Morning all.", started=0.0, t=3.0)
    g.say(1, "Carol", "Dave seems quiet to me.", started=5.0, t=7.0)
    g.say(1, "Dave", "I am only a villager here.", to="Alice", started=11.0, t=13.0)
    g.say(1, "Bob", "Let us vote Dave.", started=17.0, t=19.0)
    g.votes(1, [("Alice", "Dave"), ("Bob", "Dave"), ("Carol", "Dave"), ("Dave", "Alice")],
           "Dave")
    g.add(PhaseStarted, 1, "night")
    g.add(NightAction, 1, "night", ["Alice"], actor="Alice", action="kill", target="Carol")
    g.add(NightAction, 1, "night", ["Bob"], actor="Bob", action="protect", target="Carol")
    g.add(KillDecided, 1, "night", ["Alice"], target="Carol", tally={"Carol": 1}, tie=False)
    g.add(PhaseStarted, 2, "day")
    g.add(NobodyDied, 2, "day")
    g.say(2, "Carol", "Alice is the one.", started=5.0, t=9.0)
    g.votes(2, [("Alice", "Carol"), ("Bob", "Alice"), ("Carol", "Alice")], "Alice")
    g.write(path, "town", 2)


def _old_moments_game(path: Path) -> None:
    """A transcript from before protocols: its config has none of the new rules. One day,
    two public messages and no DMs."""
    new = {"discussion", "discussion_turns", "day_seconds", "max_silence_seconds",
           "words_per_second", "clock_decisions_per_day", "typing_events"}
    config = {k: v for k, v in make_rules(players=4, first_phase="day").model_dump(
        mode="json").items() if k not in new}
    g = HandTranscript(config, ROLES4)
    g.add(PhaseStarted, 1, "day")
    g.say(1, "Carol", "Alice is suspicious.")
    g.say(1, "Carol", "Vote Alice.")
    g.votes(1, [("Alice", "Carol"), ("Bob", "Alice"), ("Carol", "Alice"), ("Dave", "Alice")],
           "Alice")
    g.write(path, "town", 1)


def test_detective_votes_on_cleared_players_by_hand(tmp_path: Path) -> None:
    """Eve (detective) clears Bob on night 1 and votes for him on day 1: counted (4 others
    alive, 1 cleared: random 1/4). She finds Alice on night 2 and votes Bob again on day 2:
    that vote counts as follow-through (a miss; 3 others, 1 found: random 1/3), not here."""
    roles = {"Alice": "mafia", "Bob": "villager", "Carol": "villager", "Dave": "doctor",
             "Eve": "detective"}
    g = HandTranscript(make_rules(players=5).model_dump(mode="json"), roles)
    for day, target, result in ((1, "Bob", "town"), (2, "Alice", "mafia")):
        g.add(PhaseStarted, day, "night")
        g.add(InvestigationResult, day, "night", ["Eve"], detective="Eve", target=target,
              result=result)
        g.add(PhaseStarted, day, "day")
        g.add(NobodyDied, day, "day")
        if day == 1:
            g.votes(1, [("Alice", "Carol"), ("Bob", "Carol"), ("Carol", "Alice"),
                        ("Dave", "Carol"), ("Eve", "Bob")], "Carol")
    g.votes(2, [("Alice", "Dave"), ("Bob", "Alice"), ("Dave", "Alice"), ("Eve", "Bob")],
            "Alice")
    g.write(tmp_path / "g.jsonl", "town", 2)
    b = report_json(build_report(tmp_path, bootstrap=0, baseline_games=0))["behaviour"]
    assert b["detective_votes_cleared"] == {"votes": 1, "hits": 1, "rate": 1.0,
                                            "random": 0.25}
    assert b["detective_follow_through"] == {"votes": 1, "hits": 0, "rate": 0.0,
                                             "random": pytest.approx(1 / 3)}


def test_mafia_voting_together_by_hand(tmp_path: Path) -> None:
    """Alice and Bob (mafia), five players. Day 1: both vote Carol (together). Each had 4
    options and shares 3 of them (Carol, Dave, Eve): random = 3 * 1/4 * 1/4 = 3/16. Carol
    is voted out. Day 2: Alice votes Dave, Bob votes Eve (apart); 3 options each, 2 shared
    (Dave, Eve): random = 2/9. Day 3, Bob gone: one mafia vote, not counted."""
    roles = {"Alice": "mafia", "Bob": "mafia", "Carol": "villager", "Dave": "doctor",
             "Eve": "detective"}
    g = HandTranscript(make_rules(players=5, first_phase="day").model_dump(mode="json"), roles)
    g.add(PhaseStarted, 1, "day")
    g.votes(1, [("Alice", "Carol"), ("Bob", "Carol"), ("Carol", "Alice"), ("Dave", "Bob"),
                ("Eve", "Alice")], "Carol")
    g.add(PhaseStarted, 2, "day")
    g.votes(2, [("Alice", "Dave"), ("Bob", "Eve"), ("Dave", "Bob"), ("Eve", "Bob")], "Bob")
    g.add(PhaseStarted, 3, "day")
    g.votes(3, [("Alice", "Dave"), ("Dave", "Alice"), ("Eve", "Alice")], "Alice")
    g.write(tmp_path / "g.jsonl", "town", 3)
    data = report_json(build_report(tmp_path, bootstrap=0, baseline_games=0))
    assert data["behaviour"]["mafia_together"] == {
        "days": 2, "hits": 1, "rate": 0.5, "random": pytest.approx((3 / 16 + 2 / 9) / 2)}
    console = Console(file=io.StringIO(), width=100)
    for part in render(data):
        console.print(part)
    assert "mafia all vote one player" in console.file.getvalue()


def test_detective_rechecks_by_hand(tmp_path: Path) -> None:
    """Eve (detective) checks Bob on night 1 (nothing known yet: not counted), Bob again on
    night 2 (a recheck: 4 others alive, 1 checked, random 1/4) and, with Bob voted out on
    day 2, Carol on night 3 (no living checked player: not counted)."""
    roles = {"Alice": "mafia", "Bob": "villager", "Carol": "villager", "Dave": "doctor",
             "Eve": "detective"}
    g = HandTranscript(make_rules(players=5).model_dump(mode="json"), roles)
    for day, target in ((1, "Bob"), (2, "Bob"), (3, "Carol")):
        g.add(PhaseStarted, day, "night")
        g.add(NightAction, day, "night", ["Eve"], actor="Eve", action="investigate",
              target=target)
        g.add(InvestigationResult, day, "night", ["Eve"], detective="Eve", target=target,
              result="town")
        g.add(PhaseStarted, day, "day")
        g.add(NobodyDied, day, "day")
        if day == 2:
            g.votes(2, [("Alice", "Bob"), ("Bob", "Alice"), ("Carol", "Bob"), ("Dave", "Bob"),
                        ("Eve", "Alice")], "Bob")
    g.write(tmp_path / "g.jsonl", "mafia", 3)
    b = report_json(build_report(tmp_path, bootstrap=0, baseline_games=0))["behaviour"]
    assert b["detective_rechecks"] == {"checks": 1, "hits": 1, "rate": 1.0, "random": 0.25}


def test_protocol_figures_on_hand_made_games(tmp_path: Path) -> None:
    _clock_game(tmp_path / "a-clock.jsonl")
    _old_moments_game(tmp_path / "b-old.jsonl")
    report = build_report(tmp_path, bootstrap=0, baseline_games=0)
    assert report.protocols["clock"].delays == [0.0, 0.0, 2.0, 4.0, 10.0, 5.0]
    data = report_json(report)
    assert list(data["protocols"]) == ["moments", "clock"]  # fixed order, not file order
    clock, old = data["protocols"]["clock"], data["protocols"]["moments"]
    # Clock: 2 days; public Alice, Carol, Bob, then Carol = 4; DMs Bob's and Dave's = 2.
    assert (clock["games"], clock["days"]) == (1, 2)
    assert (clock["public_per_day"], clock["dm_per_day"]) == (2.0, 1.0)
    sp = clock["speaking"]
    assert sp["most"] == {"seat": "Carol", "share": 0.5, "expected": 0.25}
    assert sp["least"] == {"seat": "Dave", "share": 0.0, "expected": 0.25}
    assert sp["seats"]["Bob"] == {"messages": 1, "share": 0.25, "expected": 0.25}
    # Delays 0, 0, 2, 4, 10, 5: mean 3.5; squared gaps 71.5 over n - 1 = 5.
    assert clock["reply_delay"] == {"n": 6, "mean": 3.5,
                                    "sd": pytest.approx((71.5 / 5) ** 0.5)}
    # The old transcript counts as moments; no clock, so no reply delay.
    assert (old["games"], old["days"], old["public_per_day"], old["dm_per_day"]) == (
        1, 1, 2.0, 0.0)
    assert old["speaking"]["most"] == {"seat": "Carol", "share": 1.0, "expected": 0.25}
    assert old["speaking"]["least"]["share"] == 0.0 and old["reply_delay"] is None
    console = Console(file=io.StringIO(), width=80, highlight=False)
    for part in render(data):
        console.print(part)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Discussion protocols" in text and max(len(x) for x in text.splitlines()) <= 80
    assert "Carol 50%/25%" in text and "clock 3.5 s (sd 3.8 s, 6 messages)" in text


def test_moments_only_reports_have_no_protocol_table(tmp_path: Path) -> None:
    """Folders played before protocols report as they did; --json still has the figures."""
    _old_moments_game(tmp_path / "old.jsonl")
    data = report_json(build_report(tmp_path, bootstrap=0, baseline_games=0))
    assert list(data["protocols"]) == ["moments"]
    console = Console(file=io.StringIO(), width=80, highlight=False)
    for part in render(data):
        console.print(part)
    assert "Discussion protocols" not in console.file.getvalue()  # type: ignore[attr-defined]
