"""The `mafia play` command, run as a user runs it (a subprocess): a quiet game prints one
line and writes a transcript; every user mistake is one line on stderr and a non-zero exit,
never a traceback; the live view shows phases and a final panel."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from mafia.transcript import read_transcript


def mafia(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    if args[:1] == ("play",) and "--agents" not in args:  # the default seat is a model
        args = ("play", "--agents", "random", *args[1:])
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "mafia", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def assert_user_error(proc: subprocess.CompletedProcess[str], *named: str) -> str:
    """Non-zero exit, exactly one line on stderr naming what was wrong, no traceback."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for word in named:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def test_quiet_game_prints_one_line_and_writes_a_transcript(tmp_path: Path):
    """`mafia play --agents random --seed 1 --quiet --out X`: exit 0, one line naming the
    winner and X; the transcript starts with game_started, which reveals no roles."""
    out = tmp_path / "game.jsonl"
    proc = mafia("play", "--agents", "random", "--seed", "1", "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    match = re.fullmatch(r"(town wins|mafia wins|draw) after (\d+) day\(s\) · seed 1 · "
                         r"transcript: (.+)", lines[0])
    assert match, lines[0]
    assert match.group(3) == str(out)
    read = read_transcript(out)
    assert read.problems == []
    first, last = read.events[0], read.events[-1]
    assert first.kind == "game_started" and first.seed == 1
    assert all(set(p) == {"name", "agent"} for p in first.players)
    header = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert set(header["config"]["roles"]) == {"villager", "mafia", "doctor", "detective"}
    assert not any(p["name"] in json.dumps(header["config"]) for p in first.players)
    assert last.kind == "game_over"
    assert match.group(1).split()[0] == last.winner.value
    assert int(match.group(2)) == last.days


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--players", "abc"], ["--players", "abc"]),
        (["--players", "3"], ["players"]),
        (["--seed", "-1"], ["--seed"]),
        (["--roles", "wizard=1"], ["wizard"]),
        (["--roles", "mafia"], ["--roles"]),
        (["--roles", "mafia=4"], ["mafia"]),  # 4 mafia vs 3 town in the default 7 seats
        (["--as", "Zed"], ["--as", "Zed"]),
        (["--agents", ","], ["--agents"]),
        (["--first-phase", "day"], ["--first-phase"]),  # not a flag: rules go in --rules
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], named: list[str]):
    """Each mistake: exit code 2, one line on stderr naming the problem, nothing written."""
    out = tmp_path / "game.jsonl"
    proc = mafia("play", "--seed", "1", "--quiet", "--out", str(out), *args)
    assert proc.returncode == 2
    assert_user_error(proc, *named)
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (None, ["rules file not found"]),
        (b"\xff\xfe\x00", ["cannot read rules file"]),
        (b"players = \n", ["not valid TOML"]),
        (b"players = 7\nfoo = 1\n", ["foo", "unknown rule"]),
        (b'tie_policy = "coin"\n', ["tie_policy"]),
        (b"[roles]\nmafia = 3\n", ["mafia"]),  # with --players 5 below
    ],
)
def test_bad_rules_files(tmp_path: Path, content: bytes | None, named: list[str]):
    """A rules file that is missing, unreadable, not TOML or holds a bad rule: one line."""
    rules = tmp_path / "rules.toml"
    if content is not None:
        rules.write_bytes(content)
    proc = mafia("play", "--seed", "1", "--quiet", "--players", "5", "--rules", str(rules),
                 "--out", str(tmp_path / "game.jsonl"))
    assert_user_error(proc, *named)


def test_rules_file_that_is_a_directory(tmp_path: Path):
    """--rules pointing at a directory is a user error, not a crash."""
    proc = mafia("play", "--seed", "1", "--quiet", "--rules", str(tmp_path),
                 "--out", str(tmp_path / "game.jsonl"))
    assert_user_error(proc, "cannot read rules file")


def test_rules_file_is_used(tmp_path: Path):
    """Options from --rules reach the game (and --players overrides the file)."""
    rules = tmp_path / "rules.toml"
    rules.write_text('players = 6\nfirst_phase = "day"\nmax_days = 1\n', encoding="utf-8")
    out = tmp_path / "game.jsonl"
    proc = mafia("play", "--seed", "3", "--quiet", "--rules", str(rules), "--players", "8",
                 "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    config = read_transcript(out).events[0].config
    assert (config["players"], config["first_phase"], config["max_days"]) == (8, "day", 1)


@pytest.mark.parametrize("where", ["proc", "under_a_file", "a_directory"])
def test_unwritable_output(tmp_path: Path, where: str):
    """An --out path that cannot be written is one line naming the path."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = {"proc": "/proc/nope/x.jsonl", "under_a_file": str(blocker / "x.jsonl"),
           "a_directory": str(tmp_path)}[where]
    proc = mafia("play", "--seed", "1", "--quiet", "--out", out)
    assert_user_error(proc, "cannot write transcript", out)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_is_a_user_error():
    """A transcript that cannot be written because the disk is full: one line, no traceback."""
    proc = mafia("play", "--seed", "1", "--quiet", "--out", "/dev/full")
    assert_user_error(proc, "/dev/full")


def test_final_line_shows_path_with_brackets(tmp_path: Path):
    """The final line names the transcript path exactly, whatever characters it holds."""
    out = tmp_path / "[b]game.jsonl"
    proc = mafia("play", "--seed", "1", "--quiet", "--out", str(out))
    assert proc.returncode == 0 and out.exists()
    assert proc.stdout.rstrip("\n").endswith(f"transcript: {out}")


def test_live_view_shows_phases_and_game_over(tmp_path: Path):
    """Without --quiet the game is shown as it happens: the header panel, a rule for each
    night and day, and a Game over panel, before the final line."""
    out = tmp_path / "game.jsonl"
    proc = mafia("play", "--seed", "1", "--players", "6", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    days = read_transcript(out).events[-1].days
    for phase in ["Night 1", "Day 1", f"Day {days}"]:
        assert phase in text, phase
    assert text.index("Night 1") < text.index("Day 1") < text.index("Game over")
    assert "wants to kill" in text  # omniscient view shows night actions
    assert text.splitlines()[-1].endswith(f"transcript: {out}")


def test_public_view_hides_secrets(tmp_path: Path):
    """--public shows what a spectator sees: no night actions, DMs or mafia chat."""
    out = tmp_path / "game.jsonl"
    proc = mafia("play", "--seed", "2", "--players", "8", "--public", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert any(e["kind"] == "night_action" for e in events)  # there were secrets to hide
    assert any(e["kind"] == "message" and e["channel"] == "dm" for e in events)
    for secret in ("wants to kill", "protects", "investigates", "(private)", "[mafia]",
                   "The mafia choose"):
        assert secret not in proc.stdout, secret
    assert "Night 1" in proc.stdout and "Game over" in proc.stdout


def test_seat_view(tmp_path: Path):
    """--as NAME (any case) shows the game through that seat's eyes."""
    proc = mafia("play", "--seed", "1", "--as", "bob", "--out", str(tmp_path / "g.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert "as seen by Bob" in proc.stdout and "You are Bob" in proc.stdout
