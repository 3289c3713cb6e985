"""Reading a folder of transcripts into finished games; everything else is listed as skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mafia.enums import Role, Team, Winner
from mafia.errors import MafiaError
from mafia.events import BaseEvent, GameOver, GameStarted
from mafia.provenance import compared
from mafia.transcript import read_transcript


def seat_spec(agent: dict[str, Any]) -> str:
    """The name a seat's player is reported under: its `spec` when the header has one (model
    seats; any player may add one), else the model name for llm seats, else the kind."""
    spec = agent.get("spec")
    if isinstance(spec, str) and spec:
        return spec
    kind = str(agent.get("kind") or "unknown")
    if kind == "llm":
        return str(agent.get("model") or "llm")
    return kind


@dataclass(frozen=True)
class Seat:
    name: str
    spec: str
    kind: str  # the header's agent kind: "llm", "random", "scripted", ...
    role: Role
    team: Team


@dataclass
class Game:
    file: str
    events: list[BaseEvent]
    config: dict[str, Any]
    seats: dict[str, Seat]  # seat order
    winner: Winner
    days: int
    # Which players played (see players_build); games of different ones are not pooled
    # unless asked.
    build: dict[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        """The game's seed (its deal, under its rules): from the game_started header."""
        return int(getattr(self.events[0], "seed", 0))

    def won(self, seat: Seat) -> bool:
        """A seat wins when its team wins; a draw is won by nobody."""
        return self.winner.value == seat.team.value


@dataclass
class Skipped:
    file: str
    reason: str


@dataclass
class Loaded:
    path: Path
    transcripts: int  # *.jsonl files looked at
    games: list[Game] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file: line N: ..." in counted games


def transcript_files(path: Path) -> list[Path]:
    if not path.exists():
        raise MafiaError(f"no such file or folder: {path}")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.glob("*.jsonl") if p.is_file())
    if not files:
        raise MafiaError(f"no transcripts (*.jsonl) in {path}")
    return files


def load_games(path: str | Path) -> Loaded:
    """Every *.jsonl in `path` (or the one file): games whose last event is game_over count;
    unreadable files, non-transcripts and unfinished games are skipped with a reason."""
    root = Path(path)
    files = transcript_files(root)
    loaded = Loaded(root, len(files))
    for file in files:
        try:
            read = read_transcript(file)
        except MafiaError as exc:
            loaded.skipped.append(Skipped(file.name, str(exc)))
            continue
        game, reason = _game(file.name, read.events)
        if game is None:
            loaded.skipped.append(Skipped(file.name, reason))
            continue
        loaded.games.append(game)
        loaded.problems.extend(f"{file.name}: {p}" for p in read.problems)
    return loaded


def _game(name: str, events: list[BaseEvent]) -> tuple[Game | None, str]:
    if not events or not isinstance(events[0], GameStarted):
        return None, "not a transcript (no game_started event)"
    last = events[-1]
    if not isinstance(last, GameOver):
        return None, f"unfinished (last event #{last.seq} is {last.kind}, not game_over)"
    start = events[0]
    seats: dict[str, Seat] = {}
    for player in start.players:
        seat_name = str(player["name"])
        agent = player.get("agent") or {}
        try:
            role = Role(last.roles[seat_name])
        except (KeyError, ValueError):
            return None, f"game_over gives no known role for {seat_name}"
        seats[seat_name] = Seat(seat_name, seat_spec(agent), str(agent.get("kind", "unknown")),
                                role, role.team)
    return Game(name, events, dict(start.config), seats, last.winner, last.days,
                players_build(start)), ""


def players_build(start: GameStarted) -> dict[str, Any]:
    """The header's build (the fields that define play; None before builds were recorded)
    and, per spec, what played it: model and adapter sha256 and prompt profile."""
    seats: dict[str, dict[str, Any]] = {}
    for player in start.players:
        agent = player.get("agent") or {}
        seats[seat_spec(agent)] = {k: agent.get(k) for k in ("sha256", "adapter_sha256",
                                                             "profile") if agent.get(k)}
    return {"build": compared(start.build) if start.build else None,
            "seats": dict(sorted(seats.items()))}
