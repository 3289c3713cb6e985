"""The JSONL transcript: writing it as the game goes, reading it back tolerantly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from mafia.errors import MafiaError
from mafia.events import KINDS, BaseEvent, event_from_dict

TIMING_SUFFIXES = ("_s", "_ms")


class TranscriptWriter:
    """Appends one JSON line per event and flushes it, so a crash keeps everything before it."""

    def __init__(self, path: str | Path, flush_each: bool = True) -> None:
        self.path = Path(path)
        self.flush_each = flush_each
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] = open(self.path, "w", encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise MafiaError(f"cannot write transcript {self.path}: {reason}") from None

    def __call__(self, event: BaseEvent) -> None:
        try:
            self._file.write(event.model_dump_json() + "\n")
            if self.flush_each:
                self._file.flush()
        except OSError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            raise self._error(exc) from None

    def _error(self, exc: OSError) -> MafiaError:
        return MafiaError(f"cannot write transcript {self.path}: {exc.strerror or exc}")

    def __enter__(self) -> "TranscriptWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TranscriptBuffer:
    """TranscriptWriter's lines kept in memory: `getvalue()` is the bytes it would write."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def __call__(self, event: BaseEvent) -> None:
        self._lines.append(event.model_dump_json() + "\n")

    def getvalue(self) -> bytes:
        return "".join(self._lines).encode("utf-8")


@dataclass
class ReadResult:
    events: list[BaseEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "line N: what was wrong"
    unknown_kinds: int = 0


def read_transcript(path: str | Path) -> ReadResult:
    """Every valid event of a transcript, and a note per line that could not be used.

    Unknown kinds (from a newer version) are skipped with a note; a line cut off mid-way (a
    game killed while writing) or a non-JSON line is reported with its number. Reading stops
    at the first break in `seq`, since later events would not follow from the earlier ones.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise MafiaError(f"transcript not found: {p}") from None
    except OSError as exc:
        raise MafiaError(f"cannot read transcript {p}: {exc.strerror or exc}") from None
    result = ReadResult()
    lines = raw.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    expected = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            cut = number == len(lines) and not raw.endswith(b"\n")
            what = "cut off (incomplete last line)" if cut else "not valid JSON"
            result.problems.append(f"line {number}: {what}")
            continue
        if not isinstance(data, dict):
            result.problems.append(f"line {number}: not a JSON object")
            continue
        kind = data.get("kind")
        if kind not in KINDS:
            result.unknown_kinds += 1
            result.problems.append(f"line {number}: unknown event kind {kind!r} skipped")
            expected += 1
            continue
        try:
            event = event_from_dict(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"][1:]) or "event"
            result.problems.append(f"line {number}: bad {kind} event ({loc}: {first['msg']})")
            continue
        if event.seq != expected:
            result.problems.append(
                f"line {number}: seq {event.seq} where {expected} was expected; stopped here"
            )
            break
        expected += 1
        result.events.append(event)
    return result


def strip_timing(value: Any) -> Any:
    """A copy of a transcript record without wall-clock fields (names ending _s / _ms)."""
    if isinstance(value, dict):
        return {k: strip_timing(v) for k, v in value.items() if not k.endswith(TIMING_SUFFIXES)}
    if isinstance(value, list):
        return [strip_timing(v) for v in value]
    return value


def comparable_lines(path: str | Path) -> list[str]:
    """The transcript's lines with timing fields removed, for determinism checks."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        out.append(json.dumps(strip_timing(json.loads(line)), sort_keys=True))
    return out
