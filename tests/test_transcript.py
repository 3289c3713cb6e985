"""Reading transcripts back (mafia/transcript.py): a good file round-trips; damaged files
(cut off by a crash, hand-edited, from a newer version) give every event that can be trusted
plus a note per bad line; a missing file is a MafiaError."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from helpers import play

from mafia.config import make_rules
from mafia.decisions import Answer, Request
from mafia.errors import MafiaError
from mafia.state import rebuild_state
from mafia.transcript import TranscriptWriter, comparable_lines, read_transcript, strip_timing

from mafia.agents.random_player import RandomPlayer


class AccentedPlayer:
    """A random player whose speech carries multi-byte characters (accents, emoji)."""

    def __init__(self, inner: RandomPlayer) -> None:
        self.inner = inner

    def describe(self) -> dict[str, str]:
        return {"kind": "accented"}

    async def act(self, request: Request) -> Answer:
        answer = await self.inner.act(request)
        text = f"{answer.text} ça va 😀" if answer.text else ""
        return Answer(answer.choice, text)


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """One real transcript (7 players: DMs, mafia chat, accents and emoji) and its events."""
    path = tmp_path_factory.mktemp("transcript") / "game.jsonl"
    rules = make_rules(players=7, max_days=3)
    players = [AccentedPlayer(RandomPlayer(123, seat)) for seat in range(7)]
    with TranscriptWriter(path) as writer:
        result = asyncio.run(play(rules, 123, players, sinks=[writer]))
    return path, result.events


def test_good_file_reads_back_exactly(game):
    """A complete transcript gives back every event, unchanged, with no problems, and the
    state rebuilt from it is the engine's."""
    path, events = game
    read = read_transcript(path)
    assert read.problems == [] and read.unknown_kinds == 0
    assert read.events == events
    assert rebuild_state(read.events) == rebuild_state(events)


def test_truncated_at_random_bytes(game, tmp_path: Path):
    """A file cut at any byte (a crash mid-write) reads as a prefix of the game; when the
    cut falls inside a line, exactly one problem names that line as cut off."""
    path, events = game
    raw = path.read_bytes()
    multibyte = [i + 1 for i, byte in enumerate(raw) if byte >= 0xC0]  # inside a character
    assert multibyte, "the fixture should contain non-ASCII text"
    cuts = random.Random(0).sample(range(len(raw) + 1), 150) + [0, 1, len(raw) - 1]
    cuts += random.Random(1).sample(multibyte, min(20, len(multibyte)))
    cut_path = tmp_path / "cut.jsonl"
    for cut in cuts:
        data = raw[:cut]
        cut_path.write_bytes(data)
        read = read_transcript(cut_path)
        complete = data.count(b"\n")
        partial = data[data.rfind(b"\n") + 1:]
        assert read.events == events[: len(read.events)], cut
        if not partial:  # cut on a line boundary
            assert (len(read.events), read.problems) == (complete, []), cut
        elif raw[cut: cut + 1] == b"\n":  # only the newline is missing: the line is whole
            assert (len(read.events), read.problems) == (complete + 1, []), cut
        else:
            assert len(read.events) == complete, cut
            assert read.problems == [f"line {complete + 1}: cut off (incomplete last line)"]


def test_non_json_line_at_the_end(game, tmp_path: Path):
    """A garbage line after the game is reported by number; every event before it is kept."""
    path, events = game
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(path.read_bytes() + b"this is not json\n")
    read = read_transcript(bad)
    assert read.events == events
    assert read.problems == [f"line {len(events) + 1}: not valid JSON"]


def test_inserted_garbage_line_is_skipped(game, tmp_path: Path):
    """A stray non-JSON line inside the game is reported by number and skipped; since no
    event is missing, every event still reads."""
    path, events = game
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(10, "{oops")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_transcript(bad)
    assert read.events == events
    assert read.problems == ["line 11: not valid JSON"]


def test_corrupted_line_stops_reading_at_the_gap(game, tmp_path: Path):
    """A line that replaced an event with garbage: the events before it are kept, the gap
    in seq is reported, and nothing after the gap is trusted."""
    path, events = game
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[10] = "{oops"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_transcript(bad)
    assert read.events == events[:10]
    assert read.problems == ["line 11: not valid JSON",
                             "line 12: seq 11 where 10 was expected; stopped here"]


def test_unknown_kind_is_skipped_with_a_note(game, tmp_path: Path):
    """An event kind from a newer version is skipped (counted, noted) and the events around
    it still read, since it keeps its place in seq."""
    path, events = game
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[5])
    record["kind"] = "weather_changed"
    lines[5] = json.dumps(record)
    newer = tmp_path / "newer.jsonl"
    newer.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_transcript(newer)
    assert read.unknown_kinds == 1
    assert read.problems == ["line 6: unknown event kind 'weather_changed' skipped"]
    assert read.events == events[:5] + events[6:]


def test_bad_event_fields_are_reported(game, tmp_path: Path):
    """A known kind with a broken field is reported with the field's name."""
    path, events = game
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    assert record["kind"] == "game_over"
    record["winner"] = "nobody"
    lines[-1] = json.dumps(record)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_transcript(broken)
    assert read.events == events[:-1]
    assert len(read.problems) == 1
    assert read.problems[0].startswith(f"line {len(lines)}: bad game_over event (winner")


def test_non_object_json_line(tmp_path: Path):
    """Valid JSON that is not an object is a problem, not a crash."""
    path = tmp_path / "list.jsonl"
    path.write_text("[1, 2]\n", encoding="utf-8")
    read = read_transcript(path)
    assert read.events == [] and read.problems == ["line 1: not a JSON object"]


def test_empty_file(tmp_path: Path):
    """An empty transcript (a game killed before its first event) has no events, no problems."""
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    read = read_transcript(path)
    assert read.events == [] and read.problems == [] and read.unknown_kinds == 0


def test_missing_file(tmp_path: Path):
    """A transcript that does not exist is a MafiaError naming the path."""
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(MafiaError, match="transcript not found") as info:
        read_transcript(missing)
    assert str(missing) in str(info.value)


def test_directory_instead_of_file(tmp_path: Path):
    """A directory given as a transcript is a MafiaError, not a traceback."""
    with pytest.raises(MafiaError, match="cannot read transcript"):
        read_transcript(tmp_path)


def test_strip_timing_removes_only_timing_fields():
    """Only keys ending in _s or _ms (wall-clock) are dropped, at any depth."""
    record = {"kind": "model_call", "latency_ms": 3.2, "wall_s": 1, "players": 5,
              "nested": [{"took_ms": 1, "seats": 2}], "status": "ok"}
    assert strip_timing(record) == {"kind": "model_call", "players": 5,
                                    "nested": [{"seats": 2}], "status": "ok"}


def test_comparable_lines_are_canonical(tmp_path: Path):
    """comparable_lines ignores key order and timing, so equal games compare equal."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"seq": 0, "kind": "x", "latency_ms": 1}\n', encoding="utf-8")
    b.write_text('{"kind": "x", "latency_ms": 99, "seq": 0}\n', encoding="utf-8")
    assert comparable_lines(a) == comparable_lines(b)


def test_writer_refuses_unwritable_path(tmp_path: Path):
    """An output path under a regular file is a MafiaError naming the path."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MafiaError, match="cannot write transcript"):
        TranscriptWriter(blocker / "game.jsonl")


def test_writer_creates_parent_directories(tmp_path: Path):
    """`--out runs/new/dir/game.jsonl` works without creating the folders first."""
    path = tmp_path / "a" / "b" / "game.jsonl"
    with TranscriptWriter(path):
        pass
    assert path.exists()
