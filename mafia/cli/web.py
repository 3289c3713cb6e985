"""`mafia replay PATH --web OUT`: the web page(s) of a transcript or of a folder of them."""

from __future__ import annotations

import argparse
import html
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from mafia.errors import MafiaError
from mafia.events import GameOver, GameStarted
from mafia.render import View
from mafia.transcript import ReadResult, read_transcript
from mafia.web.document import document
from mafia.web.page import write_page


def run(args: argparse.Namespace,
        warn: Callable[[ReadResult, Path], None] | None = None) -> int:
    """Write the page(s); `warn` reports a transcript's skipped lines (as replay does)."""
    console = Console(highlight=False)
    path, out = Path(args.path), Path(args.web)
    if path.is_dir():
        games = sorted(path.glob("*.jsonl"))
        if not games:
            raise MafiaError(f"no transcripts (*.jsonl) in {path}")
        _mkdir(out)
        rows = []
        for game in games:
            read = read_transcript(game)
            if not read.events:
                continue
            size = _one(read, args, out / f"{game.stem}.html", game)
            rows.append((game, read, size))
        index = out / "index.html"
        _write(index, _index(path, rows))
        console.print(f"wrote {index} and {len(rows)} game pages "
                      f"({sum(s for *_, s in rows) / 1e6:.1f} MB)")
        return 0
    if not path.exists():
        raise MafiaError(f"no such transcript: {path}")
    read = read_transcript(path)
    if not read.events:
        raise MafiaError(f"nothing to replay in {path}")
    if out.parent and not out.parent.exists():
        raise MafiaError(f"cannot write {out}: no folder {out.parent}")
    size = _one(read, args, out, path)
    console.print(f"wrote {out} ({size / 1e3:.0f} kB)")
    if warn is not None:
        warn(read, path)
    return 0


def views_for(args: argparse.Namespace, read: ReadResult) -> list[View]:
    seats = [str(p["name"]) for e in read.events[:1] if isinstance(e, GameStarted)
             for p in e.players]
    if args.public:
        return [View(public=True)]
    if args.as_seat is not None:
        name = next((s for s in seats if s.lower() == args.as_seat.lower()), None)
        if name is None:
            known = ", ".join(seats) or "none: the transcript has no game_started header"
            raise MafiaError(f"--as: no seat named {args.as_seat!r} (seats: {known})")
        return [View(seat=name)]
    return [View(), View(public=True), *(View(seat=s) for s in seats)]


def _one(read: ReadResult, args: argparse.Namespace, out: Path, source: Path) -> int:
    try:
        doc = document(read, views_for(args, read), source=source.name)
    except ValueError as exc:
        raise MafiaError(f"{source}: {exc}") from None
    return _write_page(doc, f"Mafia · {source.stem}", out)


def _write_page(doc: dict, title: str, out: Path) -> int:
    try:
        return write_page(doc, title, out)
    except OSError as exc:
        raise MafiaError(f"cannot write {out}: {exc.strerror or exc}") from None


def _write(out: Path, text: str) -> None:
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MafiaError(f"cannot write {out}: {exc.strerror or exc}") from None


def _mkdir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MafiaError(f"cannot create {out}: {exc.strerror or exc}") from None


def _index(folder: Path, rows: list[tuple[Path, ReadResult, int]]) -> str:
    """A plain page linking each game's page, with its seed, winner and days."""
    lines = []
    for game, read, _ in rows:
        start = read.events[0] if isinstance(read.events[0], GameStarted) else None
        end = read.events[-1] if isinstance(read.events[-1], GameOver) else None
        winner = end.winner.value if end else "unfinished"
        lines.append(f'<tr><td><a href="{html.escape(game.stem)}.html">'
                     f"{html.escape(game.name)}</a></td>"
                     f"<td>{start.seed if start else '?'}</td><td>{winner}</td>"
                     f"<td>{end.days if end else '?'}</td></tr>")
    name = html.escape(str(folder))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Mafia games in {name}</title><style>body{{font:15px system-ui,"
            "sans-serif;margin:1rem}td,th{padding:.2rem .6rem;text-align:left}</style>"
            f"</head><body><h1>Games in {name}</h1><table><thead><tr><th>game</th>"
            "<th>seed</th><th>winner</th><th>days</th></tr></thead><tbody>"
            + "".join(lines) + "</tbody></table></body></html>")
