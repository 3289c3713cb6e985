"""`mafia replay PATH`: a transcript as a story in the terminal, from any point of view."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.prompt import IntPrompt
from rich.table import Table
from rich.text import Text

from mafia.cli import web
from mafia.errors import MafiaError
from mafia.events import GameOver, GameStarted
from mafia.render import THEME, Renderer, View, agent_label
from mafia.transcript import ReadResult, read_transcript


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay a transcript (or pick one from a folder)",
                       description="Render a game transcript: omniscient by default, or as a "
                                   "spectator (--public) or one seat (--as NAME).")
    p.add_argument("path", metavar="PATH", help="a transcript (.jsonl) or a folder of them")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--public", action="store_true", help="only what a spectator sees")
    who.add_argument("--as", dest="as_seat", metavar="NAME", help="exactly what one seat saw")
    p.add_argument("--delay", type=float, metavar="SECONDS",
                   help="pause between events (default 0.4 on a terminal, else 0)")
    p.add_argument("--step", action="store_true", help="press Enter to advance each event")
    p.add_argument("--from-day", type=int, default=1, metavar="N", help="start at day N")
    p.add_argument("--latest", action="store_true",
                   help="with a folder: replay the newest transcript without asking")
    p.add_argument("--html", metavar="OUT.html", help="also write the rendering as HTML")
    p.add_argument("--text", metavar="OUT.txt", help="also write the rendering as plain text")
    p.add_argument("--web", metavar="OUT", help=(
        "write a self-contained web page instead (OUT.html; for a folder, OUT is a folder "
        "that gets index.html and a page per game); omniscient pages hold every point of "
        "view, --public or --as NAME pages only that one"))
    p.set_defaults(run=run)


@dataclass(frozen=True)
class GameListing:
    path: Path
    seed: int | None
    seats: str
    winner: str
    days: str


def run(args: argparse.Namespace) -> int:
    if args.web:
        return web.run(args, warn=report_problems)
    console = Console(theme=THEME, highlight=False, record=bool(args.html or args.text))
    path = Path(args.path)
    if path.is_dir():
        path = pick_game(path, args.latest, console)
    read = read_transcript(path)
    view = make_view(args, read)
    delay = args.delay if args.delay is not None else (0.4 if console.is_terminal else 0.0)
    shown = replay(read, view, console, delay=delay, step=args.step, from_day=args.from_day)
    export(console, args)
    report_problems(read, path)
    if not shown:
        raise MafiaError(f"nothing to replay in {path}")
    return 0


def replay(read: ReadResult, view: View, console: Console, *, delay: float = 0.0,
           step: bool = False, from_day: int = 1) -> int:
    """Print the events `view` may see; returns how many renderables were shown."""
    renderer = Renderer(view)
    shown = 0
    for event in read.events:
        renderable = renderer.render(event)
        if renderable is None or (0 < event.day < from_day and event.kind != "game_over"):
            continue
        console.print(renderable)
        shown += 1
        if step and sys.stdin.isatty():
            input()
        elif delay > 0:
            time.sleep(delay)
    return shown


def make_view(args: argparse.Namespace, read: ReadResult) -> View:
    if args.as_seat is None:
        return View(public=args.public)
    seats = [p["name"] for e in read.events[:1] if isinstance(e, GameStarted) for p in e.players]
    name = next((s for s in seats if s.lower() == args.as_seat.lower()), None)
    if name is None:
        known = ", ".join(seats) or "none: the transcript has no game_started header"
        raise MafiaError(f"--as: no seat named {args.as_seat!r} (seats: {known})")
    return View(seat=name)


def report_problems(read: ReadResult, path: Path) -> None:
    if not read.problems:
        return
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    shown = read.problems[:10]
    more = f" (and {len(read.problems) - 10} more)" if len(read.problems) > 10 else ""
    err.print(Text(f"warning: {path}: " + "; ".join(shown) + more, style="yellow"))
    if read.events and read.events[-1].kind != "game_over":
        err.print(Text(f"warning: {path}: the game stops after event {read.events[-1].seq} "
                       "(no game_over)", style="yellow"))


def export(console: Console, args: argparse.Namespace) -> None:
    for target, fn in ((args.html, console.save_html), (args.text, console.save_text)):
        if not target:
            continue
        try:
            fn(target, clear=False)
        except OSError as exc:
            raise MafiaError(f"cannot write {target}: {exc.strerror or exc}") from None


def list_games(folder: Path) -> list[GameListing]:
    games = []
    for path in sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime):
        read = read_transcript(path)
        head = read.events[0] if read.events else None
        end = read.events[-1] if read.events else None
        seed, seats = None, "?"
        if isinstance(head, GameStarted):
            seed = head.seed
            agents = sorted({agent_label(p["agent"]) for p in head.players})
            seats = f"{len(head.players)} × {', '.join(agents)}"
        winner = end.winner.value if isinstance(end, GameOver) else "unfinished"
        days = str(end.days) if isinstance(end, GameOver) else "?"
        games.append(GameListing(path, seed, seats, winner, days))
    return games


def pick_game(folder: Path, latest: bool, console: Console) -> Path:
    games = list_games(folder)
    if not games:
        raise MafiaError(f"no transcripts (*.jsonl) in {folder}")
    if latest:
        return games[-1].path
    table = Table(title=f"Games in {folder}", title_justify="left")
    for col in ("#", "file", "seed", "seats", "winner", "days"):
        table.add_column(col)
    for i, g in enumerate(games, start=1):
        table.add_row(str(i), g.path.name, str(g.seed), g.seats, g.winner, g.days)
    console.print(table)
    if not sys.stdin.isatty():
        raise MafiaError(f"{folder} is a folder: pick a file, or pass --latest")
    number = IntPrompt.ask("Replay which game", console=console, default=len(games))
    if not 1 <= number <= len(games):
        raise MafiaError(f"no game number {number} (1-{len(games)})")
    return games[number - 1].path
