"""`mafia play`: one game, shown live, written to a transcript."""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from mafia.config import SEAT_NAMES, Rules
from mafia.engine import Engine, GameResult, run_game
from mafia.errors import MafiaError
from mafia.render import THEME, Renderer, View
from mafia.transcript import TranscriptWriter

from mafia.decisions import Player
from mafia.agents.seating import build_players
from mafia.agents.specs import Teams, choose_seating
from mafia.cli.common import (
    add_model_options, add_rules_options, add_team_options, model_options, non_negative_int,
    positive_float, rules_from_args,
)

DEFAULT_AGENTS = "gemma3-270m"  # measured choice: see docs/experiments/default-model.md


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("play", help="play one game and watch it live",
                       description="Play one game, show it as it happens, write its transcript.")
    p.add_argument("--agents", metavar="SPEC,...",
                   help=f"player specs for the seats, cycled (default {DEFAULT_AGENTS}); "
                        "'random', 'heuristic', a bundled model alias, or a path to a .gguf file")
    add_team_options(p)
    p.add_argument("--seed", type=non_negative_int, help="game seed (default: a random one)")
    add_rules_options(p)
    p.add_argument("--out", metavar="PATH",
                   help="transcript file (default runs/<time>-seed<seed>.jsonl)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--public", action="store_true", help="show only public events")
    who.add_argument("--as", dest="as_seat", metavar="NAME", help="show what one seat sees")
    p.add_argument("--quiet", action="store_true", help="print only the final line")
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="longest a player may think about one decision (default 600)")
    p.add_argument("--human", nargs="?", const="", metavar="NAME",
                   help="you play seat NAME (alone: a seat drawn from the seed); a full-screen "
                        "app on a terminal, plain lines when stdin is not one (see docs/playing.md)")
    p.add_argument("--human-timeout", type=positive_float, metavar="SECONDS",
                   help="with --human: longest you may take for one decision, then the "
                        "engine's fallback applies (default: no limit)")
    add_model_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rules = rules_from_args(args)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    seating = choose_seating(args.agents, args.town, args.mafia, default=DEFAULT_AGENTS)
    specs = seating.seat_specs(rules, seed) if isinstance(seating, Teams) else seating
    human = human_seat(args, rules, seed)
    view = make_view(args, rules)
    out = Path(args.out) if args.out else default_out(seed)
    console = Console(theme=THEME, highlight=False)
    if human is not None:
        # The person's seat needs no player of its own: a cheap stand-in is built and replaced.
        seats = SEAT_NAMES[: rules.players]
        specs = [("random" if s == human else specs[i % len(specs)]) for i, s in enumerate(seats)]
    with console.status("loading players", spinner="dots"):
        players = build_players(specs, rules.players, seed, model_options(args))
    if human is not None:
        return play_as_human(args, rules, seed, players, human, out, console)
    result = play_game(rules, seed, players, out, console=None if args.quiet else console,
                       view=view, timeout_s=args.timeout)
    word = "draw" if result.winner.value == "draw" else f"{result.winner.value} wins"
    console.print(f"{word} after {result.days} day(s) · seed {seed} · transcript: {out}",
                  soft_wrap=True, markup=False)
    return 0


def human_seat(args: argparse.Namespace, rules: Rules, seed: int) -> str | None:
    """The seat `--human` names (or draws from the seed), None without --human."""
    if args.human is None:
        if args.human_timeout is not None:
            raise MafiaError("--human-timeout goes with --human")
        return None
    for flag, given in (("--quiet", args.quiet), ("--public", args.public),
                        ("--as", args.as_seat is not None)):
        if given:
            raise MafiaError(f"--human cannot be combined with {flag}: you see the game "
                             "through your own seat")
    from mafia.agents.human.seat import draw_seat, pick_seat

    seats = SEAT_NAMES[: rules.players]
    if not args.human.strip():
        return draw_seat(seats, seed)
    name = pick_seat(args.human, seats)
    if name is None:
        raise MafiaError(f"--human: no seat named {args.human!r} (seats: {', '.join(seats)})")
    return name


def play_as_human(args: argparse.Namespace, rules: Rules, seed: int, players: list[Player],
                  seat: str, out: Path, console: Console) -> int:
    from mafia.agents.human.game import play_human

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        result = play_human(rules, seed, players, seat, out, timeout_s=args.human_timeout,
                            others_timeout_s=args.timeout, interactive=interactive)
    except KeyboardInterrupt:
        console.print(f"stopped · seed {seed} · transcript so far: {out}", soft_wrap=True,
                      markup=False)
        return 130
    if result is None:
        console.print(f"you left the game · seed {seed} · transcript so far: {out}",
                      soft_wrap=True, markup=False)
        return 0
    word = "draw" if result.winner.value == "draw" else f"{result.winner.value} wins"
    console.print(f"{word} after {result.days} day(s) · you played {seat} · seed {seed} · "
                  f"transcript: {out}", soft_wrap=True, markup=False)
    return 0


def make_view(args: argparse.Namespace, rules: Rules) -> View:
    if args.as_seat is None:
        return View(public=args.public)
    seats = SEAT_NAMES[: rules.players]
    name = next((s for s in seats if s.lower() == args.as_seat.lower()), None)
    if name is None:
        raise MafiaError(f"--as: no seat named {args.as_seat!r} (seats: {', '.join(seats)})")
    return View(seat=name)


def default_out(seed: int) -> Path:
    return Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-seed{seed}.jsonl"


def thinking_line(who: frozenset[str], view: View) -> str:
    """The status line while players think. Only the omniscient view names them (or counts
    them): who is asked at night would reveal the mafia, the doctor and the detective."""
    if not who:
        return ""
    if view.seat is None and not view.public:
        return f"thinking: {', '.join(sorted(who))}"
    return f"{view.seat} is thinking" if view.seat in who else "players are thinking"


def play_game(
    rules: Rules,
    seed: int,
    players: Sequence[Player],
    out: Path,
    *,
    console: Console | None = None,
    view: View = View(),
    timeout_s: float | None = None,
) -> GameResult:
    """Play one game with a transcript, optionally rendering it live."""
    with TranscriptWriter(out) as writer:
        sinks = [writer]
        if console is None:
            return run_game(Engine(rules, seed, players, sinks=sinks, timeout_s=timeout_s))
        renderer = Renderer(view)

        def show(event) -> None:  # type: ignore[no-untyped-def]
            shown = renderer.render(event)
            if shown is not None:
                console.print(shown)

        sinks.append(show)
        with console.status("starting", spinner="dots") as status:
            def waiting(who: frozenset[str]) -> None:
                status.update(thinking_line(who, view))

            engine = Engine(rules, seed, players, sinks=sinks, on_waiting=waiting,
                            timeout_s=timeout_s)
            return run_game(engine)
