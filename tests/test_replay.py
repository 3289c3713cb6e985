"""`mafia replay` and the renderer it shares with the live view of `mafia play`.

Golden text for one fixed game in all three views; information hiding in the seat view over
many games; transcripts that are cut off, corrupt, empty or missing; clock times and floor
bids of the discussion protocols.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, random_players, run_checked
from rich.console import Console

from mafia.cli.replay import replay
from mafia.config import make_rules
from mafia.engine import Engine
from mafia.enums import Phase, Role
from mafia.events import (
    BaseEvent, FloorBids, InvestigationResult, Message, PlayerDied, RoleAssigned, Typing,
)
from mafia.render import THEME, Renderer, View
from mafia.transcript import TranscriptWriter, read_transcript

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MAFIA_UPDATE_GOLDEN") == "1"


def write_game(path: Path, seed: int, **rules: object) -> Path:
    r = make_rules(**rules)
    with TranscriptWriter(path) as writer:
        asyncio.run(Engine(r, seed, random_players(r, seed), sinks=[writer]).run())
    return path


def render(path: Path, view: View) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None, theme=THEME)
    replay(read_transcript(path), view, console)
    return out.getvalue()


def mafia(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "mafia", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fixed 6-player game (random players, seed 16): three days, DMs, mafia chat, a
    quiet night, two investigations and a tied vote."""
    return write_game(tmp_path_factory.mktemp("replay") / "game.jsonl", 16, players=6)


@pytest.mark.parametrize("name,view", [("omniscient", View()), ("public", View(public=True)),
                                       ("as_bob", View(seat="Bob"))])
def test_golden_rendering(game: Path, name: str, view: View) -> None:
    """Replay output is stable, readable text in each point of view."""
    text = render(game, view)
    golden = GOLDEN / f"replay_{name}.txt"
    if UPDATE or not golden.exists():
        golden.write_text(text)
    assert text == golden.read_text()


def test_views_differ_as_they_should(game: Path) -> None:
    """Omniscient shows everything; public hides secrets; a seat sees its own secrets only."""
    omni, public, bob = (render(game, v) for v in (View(), View(public=True), View(seat="Bob")))
    assert "[mafia]" in omni and "(private)" in omni and "learns that" in omni
    assert "[mafia]" not in public and "(private)" not in public and "wants to kill" not in public
    assert "You are Bob" in bob
    for text in (omni, public, bob):
        assert "Game over" in text and re.search(r"(TOWN|MAFIA) WINS|DRAW", text)


def _known(events, seat: str) -> dict[str, set[str]]:
    """What `seat` knows about each player's identity (role or team words), from events."""
    known: dict[str, set[str]] = {}
    for e in events:
        if isinstance(e, RoleAssigned) and e.player == seat:
            known.setdefault(seat, set()).add(e.role)
            for mate in e.teammates:
                known.setdefault(mate, set()).add("mafia")
        elif isinstance(e, InvestigationResult) and e.detective == seat:
            known.setdefault(e.target, set()).add(e.result)
        elif isinstance(e, PlayerDied):
            known.setdefault(e.player, set()).update(x for x in (e.role, e.team) if x)
    return known


@pytest.mark.parametrize("seed", range(12))
def test_seat_view_hides_what_the_seat_did_not_know(tmp_path: Path, seed: int) -> None:
    """`--as NAME` never shows a role the seat did not know, a DM it was not part of, or the
    mafia channel to a town player (until game over reveals every role)."""
    rng = random.Random(seed)
    rules = dict(players=rng.choice([5, 7, 9]), reveal_on_death=rng.choice(["role", "none"]),
                 detective_learns=rng.choice(["team", "role"]))
    path = write_game(tmp_path / "g.jsonl", seed, **rules)
    events = read_transcript(path).events
    seats = [p["name"] for p in events[0].players]  # type: ignore[attr-defined]
    roles = {e.player: e.role for e in events if isinstance(e, RoleAssigned)}
    words = {r.value for r in Role} | {"town"}
    for seat in seats:
        text = render(path, View(seat=seat)).split("Game over")[0]
        known = _known(events, seat)
        for player in seats:
            for word in words - known.get(player, set()):
                assert f"{player} ({word})" not in text, (seat, player, word)
        for sender, recipient in re.findall(r"(\w+) \S* (\w+) \S* \(private\)", text):
            assert seat in (sender, recipient), (seat, sender, recipient)
        if roles[seat] != "mafia":
            assert "[mafia]" not in text and "wants to kill" not in text


def test_truncated_transcript_replays_up_to_the_cut(game: Path, tmp_path: Path) -> None:
    """A transcript cut at a random byte replays up to that point and says where it broke."""
    data = game.read_bytes()
    header = data.index(b"\n") + 1  # cut inside the header and nothing can be shown
    rng = random.Random(0)
    for cut in sorted(rng.sample(range(header + 1, len(data) - 1), 6)):
        path = tmp_path / f"cut{cut}.jsonl"
        path.write_bytes(data[:cut])
        proc = mafia("replay", str(path))
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "seed 16 · 6 players" in proc.stdout
        complete = data[:cut].count(b"\n")
        assert f"stops after event {complete - 1} " in proc.stderr
        if not data[:cut].endswith(b"\n"):
            line = data[:cut].count(b"\n") + 1
            assert f"line {line}: cut off" in proc.stderr
        assert "no game_over" in proc.stderr


def test_unknown_kind_and_garbage_lines_are_reported(game: Path, tmp_path: Path) -> None:
    """A newer event kind is skipped with a note; a non-JSON line is reported by number."""
    lines = game.read_text().splitlines()
    lines[3] = lines[3].replace('"kind":"role_assigned"', '"kind":"future_thing"')
    lines.insert(6, "this is not json")
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n")
    proc = mafia("replay", str(path), "--public")
    assert proc.returncode == 0
    assert "line 4: unknown event kind 'future_thing'" in proc.stderr
    assert "line 7: not valid JSON" in proc.stderr
    assert "Game over" in proc.stdout


@pytest.mark.parametrize("content,message", [(b"", "nothing to replay"),
                                             (b"garbage\n", "nothing to replay"),
                                             (None, "transcript not found")])
def test_nothing_to_show_is_an_error(tmp_path: Path, content: bytes | None, message: str) -> None:
    """Empty, useless or missing files: a clear error line and a non-zero exit."""
    path = tmp_path / "t.jsonl"
    if content is not None:
        path.write_bytes(content)
    proc = mafia("replay", str(path))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_html_and_text_export(game: Path, tmp_path: Path) -> None:
    """--html writes a standalone page and --text plain text of the same rendering."""
    html, txt = tmp_path / "g.html", tmp_path / "g.txt"
    proc = mafia("replay", str(game), "--html", str(html), "--text", str(txt))
    assert proc.returncode == 0, proc.stderr
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Night 1" in page and "Game over" in page
    assert "Night 1" in txt.read_text() and "\x1b[" not in txt.read_text()


def test_folder_latest_and_listing(game: Path, tmp_path: Path) -> None:
    """A folder: --latest replays the newest game; without a terminal, it lists and asks for
    a file in one error line."""
    folder = tmp_path / "games"
    write_game(folder / "a.jsonl", 1, players=5)
    newest = write_game(folder / "b.jsonl", 2, players=7)
    os.utime(newest, (2e9, 2e9))
    proc = mafia("replay", str(folder), "--latest", "--public")
    assert proc.returncode == 0
    assert "seed 2 · 7 players" in proc.stdout
    proc = mafia("replay", str(folder))
    assert proc.returncode == 2
    assert "a.jsonl" in proc.stdout and "b.jsonl" in proc.stdout
    assert proc.stderr.strip().splitlines() == [
        f"error: {folder} is a folder: pick a file, or pass --latest"]


def test_as_unknown_seat_and_from_day(game: Path) -> None:
    """--as with a name not in the game is one error line; --from-day skips earlier days."""
    proc = mafia("replay", str(game), "--as", "Zed")
    assert proc.returncode == 2 and "no seat named 'Zed'" in proc.stderr
    later = mafia("replay", str(game), "--from-day", "2")
    assert later.returncode == 0
    assert "Night 1" not in later.stdout and "Day 2" in later.stdout


def test_live_status_line_names_seats_only_in_the_omniscient_view() -> None:
    """Who is asked at night reveals roles, so spectator and seat views name nobody else."""
    from mafia.cli.play import thinking_line

    night = frozenset({"Bob", "Dave", "Eve"})  # e.g. two mafia and the doctor
    assert thinking_line(night, View()) == "thinking: Bob, Dave, Eve"
    assert thinking_line(night, View(public=True)) == "players are thinking"
    assert thinking_line(night, View(seat="Alice")) == "players are thinking"
    assert thinking_line(night, View(seat="Bob")) == "Bob is thinking"
    assert thinking_line(frozenset(), View()) == ""


def write_checked(path: Path, seed: int, **rules: object) -> tuple[Path, list[BaseEvent]]:
    """A game of random players with every event and request checked by the harness."""
    with TranscriptWriter(path) as writer:
        asyncio.run(run_checked(make_rules(**rules), seed, sinks=[writer]))
    return path, read_transcript(path).events


STAMP = re.compile(r"^\[\s*(\d+\.\d)s\] ", re.M)


def _seat_views(path: Path, events: list[BaseEvent]) -> dict[str, str]:
    seats = [p["name"] for p in events[0].players]  # type: ignore[attr-defined]
    return {seat: render(path, View(seat=seat)) for seat in seats}


@pytest.mark.parametrize("seed", [3, 8])
def test_clock_game_shows_simulated_times(tmp_path: Path, seed: int) -> None:
    """Clock messages and typing events carry a dim `[  t s]` stamp, in every view; each view
    stamps exactly the timed events its eyes may see, and DM typing only to its two ends."""
    path, events = write_checked(tmp_path / "clock.jsonl", seed, discussion="clock",
                                 typing_events=True)
    timed = [e for e in events if isinstance(e, Typing)
             or (isinstance(e, Message) and e.t is not None)]
    assert any(isinstance(e, Typing) for e in timed) and any(
        isinstance(e, Message) for e in timed)
    omni = render(path, View())
    assert "clock, 120 s days" in omni
    assert STAMP.findall(omni) == [f"{e.t:.1f}" for e in timed]  # type: ignore[union-attr]
    for e in timed:
        if isinstance(e, Message) and e.channel == "public":
            assert re.search(rf"^\[\s*{e.t:.1f}s\] {e.sender} \(\w+\): ", omni, re.M)
    public = render(path, View(public=True))
    assert STAMP.findall(public) == [f"{e.t:.1f}" for e in timed  # type: ignore[union-attr]
                                     if e.visible_to is None]
    assert "(private)" not in public and "a DM to" not in public
    for seat, text in _seat_views(path, events).items():
        assert STAMP.findall(text) == [f"{e.t:.1f}" for e in timed  # type: ignore[union-attr]
                                       if e.visible_for(seat)]
        for who, to in re.findall(r"(\w+) is typing a DM to (\w+)", text):
            assert seat in (who, to), (seat, who, to)
        for sender, recipient in re.findall(r"(\w+) \S* (\w+) \S* \(private\)", text):
            assert seat in (sender, recipient), (seat, sender, recipient)


def test_moments_and_round_robin_have_no_times(tmp_path: Path) -> None:
    """Only clock games are stamped; the header names the protocol."""
    path, _ = write_checked(tmp_path / "rr.jsonl", 3, discussion="round_robin")
    text = render(path, View())
    assert "round robin, 3 rounds" in text and not STAMP.search(text)
    assert "is typing" not in text and "bids:" not in text


def test_bidding_game_shows_bids_only_omnisciently(tmp_path: Path) -> None:
    """One dim line per bidding turn in the omniscient view; no spectator or seat sees any."""
    path, events = write_checked(tmp_path / "bid.jsonl", 3, discussion="bidding")
    bids = [e for e in events if isinstance(e, FloorBids)]
    assert bids
    omni = render(path, View())
    assert "bidding, 10 turns" in omni
    lines = re.findall(r"^  turn (\d+) bids: (.*?) → (.*?)$", omni.replace(" \n", " "), re.M)
    # (rich wraps long lines at a space; joining them back gives one line per event)
    assert [int(turn) for turn, _, _ in lines] == [e.turn for e in bids]
    for (_, said, outcome), e in zip(lines, bids):
        assert said == ", ".join(f"{p} {b}" for p, b in e.bids.items())
        assert outcome == (f"{e.speaker} has the floor" if e.speaker else "nobody bids")
    assert not STAMP.search(omni)
    for text in (render(path, View(public=True)), *_seat_views(path, events).values()):
        assert "bids:" not in text and "has the floor" not in text and "nobody bids" not in text


def test_nobody_bids_line() -> None:
    """All-zero bids: the turn passes in silence, and the line says so."""
    e = FloorBids(seq=5, day=1, phase=Phase.DAY, visible_to=(), turn=2,
                  bids={"Alice": 0, "Bob": 0}, speaker=None)
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(Renderer(View()).render(e))
    assert out.getvalue() == "  turn 2 bids: Alice 0, Bob 0 → nobody bids\n"
    assert Renderer(View(public=True)).render(e) is None
    assert Renderer(View(seat="Alice")).render(e) is None
