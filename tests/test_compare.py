"""`mafia compare`: every figure on hand-built folders whose answers are worked out by hand,
and the refusals (no games, one spec played by two builds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transcripts import HandTranscript

from mafia.cli import main
from mafia.config import make_rules
from mafia.events import InvestigationResult, NightAction, PlayerDied

RULES = make_rules(players=4, roles={"mafia": 1, "detective": 1, "doctor": 0}).model_dump(
    mode="json")
ROLES = {"Alice": "mafia", "Bob": "detective", "Carol": "villager", "Dave": "villager"}


def game(folder: Path, seed: int, town: str, town_wins: bool, day2: bool = False) -> None:
    """Alice (spec "m") is the mafia; the town seats are played by `town`.
    Town win: day 1 Bob and Carol vote Alice (hits), Dave votes Carol; Alice is out.
    Mafia win: day 1 every town vote misses (Carol out), Alice kills Dave that night.
    day2: Bob (detective) found Alice on night 1; day 1 misses (Carol out, Bob too), nobody
    dies at night, day 2 Bob and Dave vote Alice."""
    agents = {n: {"kind": "llm", "spec": town if n != "Alice" else "m"} for n in ROLES}
    t = HandTranscript(RULES, ROLES, agents, seed=seed)
    if town_wins and not day2:
        t.votes(1, [("Bob", "Alice"), ("Carol", "Alice"), ("Dave", "Carol"),
                    ("Alice", "Dave")], "Alice")
        t.write(folder / f"game-{seed}.jsonl", "town", 1)
        return
    if day2:
        t.add(InvestigationResult, 1, "night", ["Bob"], detective="Bob", target="Alice",
              result="mafia")
    t.votes(1, [("Bob", "Carol"), ("Carol", "Dave"), ("Dave", "Carol"), ("Alice", "Carol")],
            "Carol")
    if day2:
        t.votes(2, [("Bob", "Alice"), ("Dave", "Alice"), ("Alice", "Bob")], "Alice")
        t.write(folder / f"game-{seed}.jsonl", "town", 2)
        return
    t.add(NightAction, 2, "night", ["Alice"], actor="Alice", action="kill", target="Dave")
    t.add(PlayerDied, 2, "day", player="Dave", cause="night", role="villager", team="town")
    t.write(folder / f"game-{seed}.jsonl", "mafia", 2)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for seed in (1, 2, 3, 4):
        game(a, seed, "x", town_wins=seed != 4)
        game(b, seed, "y", town_wins=seed == 1)
    game(b, 9, "y", town_wins=True, day2=True)  # a seed only b played
    return a, b


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert main(["compare", *args, "--json", "--bootstrap", "300"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_figures_of_two_folders(folders: tuple[Path, Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    a, b = folders
    d = run_json(capsys, str(a), str(b))
    assert [(f["name"], f["games"], f["players"], f["town"]["k"]) for f in d["folders"]] == [
        ("a", 4, "x (town) vs m (mafia)", 3), ("b", 5, "y (town) vs m (mafia)", 2)]
    x, y, m = d["models"]["x"], d["models"]["y"], d["models"]["m"]
    assert (x["wins"]["town"]["k"], x["wins"]["town"]["n"]) == (3, 4)
    assert (y["wins"]["town"]["k"], y["wins"]["town"]["n"]) == (2, 5)
    assert (m["wins"]["mafia"]["k"], m["wins"]["mafia"]["n"]) == (1 + 3, 9)
    assert x["invalid_actions"] == 0 and x["invalid_rate"]["n"] == x["decisions"]
    # x: 3 games with 2 hits of 3 town votes and 1 with none, each vote 1 chance in 3
    assert x["town_votes"] == {"day 1": {"votes": 12, "hits": 6, "rate": 0.5,
                                         "random": pytest.approx(1 / 3)}}
    # y: day 1 hits only in seed 1's game (2 of 15 votes); day 2 of seed 9: both hit, 1 in 2
    assert y["town_votes"]["day 1"]["votes"] == 15 and y["town_votes"]["day 1"]["hits"] == 2
    assert y["town_votes"]["later"] == {"votes": 2, "hits": 2, "rate": 1.0, "random": 0.5}
    # the mafia's votes: one mafia, so no teammate to vote for (random 0)
    assert m["mafia_votes_on_teammate"] == {
        "day 1": {"votes": 9, "hits": 0, "rate": 0.0, "random": 0.0},
        "later": {"votes": 1, "hits": 0, "rate": 0.0, "random": 0.0}}
    # y's detective in seed 9 knows Alice: misses on day 1 (1 in 3 by chance), hits on day 2
    assert y["detective_votes_on_found_mafia"] == {
        "day 1": {"votes": 1, "hits": 0, "rate": 0.0, "random": pytest.approx(1 / 3)},
        "later": {"votes": 1, "hits": 1, "rate": 1.0, "random": 0.5}}
    assert x["detective_votes_on_found_mafia"] == {}
    assert d["specs"][0] == "x" and d["specs"][-1] in ("m", "y")  # best rating first
    lo, hi = x["rating"]["ci"]
    assert lo <= x["rating"]["value"] <= hi
    # paired over seeds 1-4 (not 9): town won 1,1,1,0 in a and 1,0,0,0 in b
    [pair] = d["paired"]
    assert (pair["a"], pair["b"], pair["seeds"]) == ("a", "b", 4)
    assert pair["a_town"] == 0.75 and pair["b_town"] == 0.25 and pair["difference"] == 0.5
    lo, hi = pair["ci"]
    assert 0.0 <= lo < 0.5 < hi <= 1.0  # differences are 0 or 1: the mean of 4 stays in [0, 1]


def test_folders_of_other_seeds_or_rules_are_not_paired(
        folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = folders
    c = tmp_path / "c"
    c.mkdir()
    game(c, 7, "y", town_wins=True)
    assert run_json(capsys, str(a), str(c))["paired"] == []
    # the same seed under other rules is another deal
    (c / "game-7.jsonl").unlink()
    other = tmp_path / "other"
    other.mkdir()
    game(other, 1, "y", town_wins=True)
    lines = (other / "game-1.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["config"]["discussion_rounds"] = 5
    (other / "game-1.jsonl").write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    assert run_json(capsys, str(a), str(other))["paired"] == []


def test_refusals_are_one_line(folders: tuple[Path, Path], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    a, b = folders
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.jsonl").write_text("not json\n")
    capsys.readouterr()
    assert main(["compare", str(a), str(empty)]) == 2
    assert "no finished games" in capsys.readouterr().err
    # m in folder b played by other code than in folder a
    for path in b.glob("*.jsonl"):
        lines = path.read_text().splitlines()
        header = json.loads(lines[0])
        header["build"] = {"version": "9", "sources": "0" * 16, "prompts": "0" * 16}
        path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert "m was played by different builds in a and b" in err and "--mixed-builds" in err
    assert len(err.strip().splitlines()) == 1
    assert run_json(capsys, str(a), str(b), "--mixed-builds")["games"] == 9


def test_the_tables_show_every_part(folders: tuple[Path, Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    a, b = folders
    capsys.readouterr()
    assert main(["compare", str(a), str(b), "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    for title in ("Folders", "Legality", "Wins per side", "Rating", "Town votes on mafia",
                  "Mafia votes on a teammate", "Detective votes on a mafia it found",
                  "Paired: the same deals"):
        assert title in out
    assert "+50.0" in out  # a - b, in points


def test_plots_are_written_and_an_unwritable_folder_is_one_line(
        folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    a, b = folders
    out = tmp_path / "plots"
    assert main(["compare", str(a), str(b), "--bootstrap", "50", "--plots", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["compare_paired.png", "compare_rating.png", "compare_town_votes.png",
                     "compare_wins.png"]
    assert all((out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    blocked = tmp_path / "file"
    blocked.write_text("x")
    capsys.readouterr()
    assert main(["compare", str(a), "--plots", str(blocked / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot write plots" in err and len(err.strip().splitlines()) == 1
