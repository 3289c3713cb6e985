"""`mafia tournament`: every ordered pair on the same seeds, one resumable sweep folder per
pairing, and the compare leaderboard over them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mafia.cli import main
from mafia.transcript import read_transcript


def _seeds(folder: Path) -> list[int]:
    return sorted(read_transcript(p).events[0].seed  # type: ignore[attr-defined]
                  for p in folder.glob("game-*.jsonl"))


def test_every_ordered_pair_plays_the_same_deals(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t"
    args = ["tournament", "--agents", "random,heuristic", "--games", "6", "--seed", "4",
            "--out", str(out), "--bootstrap", "100"]
    assert main(args) == 0
    folders = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "plots")
    assert folders == ["heuristic_vs_random", "random_vs_heuristic"]
    manifests = {f: json.loads((out / f / "sweep.json").read_text()) for f in folders}
    assert manifests["heuristic_vs_random"]["fingerprint"]["teams"] == {"town": "heuristic", "mafia": "random"}
    assert _seeds(out / folders[0]) == _seeds(out / folders[1]) and len(_seeds(out / folders[0])) == 6
    board = json.loads((out / "leaderboard.json").read_text())
    assert board["games"] == 12 and set(board["specs"]) == {"random", "heuristic"}
    (pair,) = board["paired"]
    assert pair["seeds"] == 6
    assert sorted(p.name for p in (out / "plots").iterdir())[0].endswith(".png")
    capsys.readouterr()
    assert main(args) == 0  # the same command again: every game is there, nothing replays
    assert capsys.readouterr().err.count("(0 played now, 6 already done)") == 2


def test_self_play_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["tournament", "--agents", "random", "--games", "2", "--out",
                 str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "two or more different specs" in err and len(err.strip().splitlines()) == 1
    assert main(["tournament", "--agents", "random,heuristic", "--self-play", "--games", "2",
                 "--out", str(tmp_path / "b"), "--bootstrap", "20"]) == 0
    assert len([p for p in (tmp_path / "b").iterdir() if p.is_dir() and p.name != "plots"]) == 4
