"""`mafia probe PATH`: ask a model again the votes recorded in a folder of transcripts and
report the probability it puts on the right target, per kind of voter (see mafia/probe.py)."""

from __future__ import annotations

import argparse
import asyncio
import json

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mafia.cli.common import positive_int
from mafia.errors import MafiaError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="re-ask a model the votes recorded in transcripts",
                       description="Rebuild what each voter saw when a recorded vote was "
                                   "asked, ask the model again (with today's prompts, or those "
                                   "in --prompts DIR) and report the probability it puts on the "
                                   "right target: a mafia player for town voters, a found mafia "
                                   "for a detective who knows one, a teammate for mafia voters.")
    p.add_argument("path", metavar="PATH", help="a folder of transcripts (or one transcript)")
    p.add_argument("--agents", metavar="SPEC", default="gemma3-270m",
                   help="the model to ask (alias or .gguf path; default gemma3-270m)")
    p.add_argument("--prompts", metavar="DIR",
                   help="a copy of prompts/ to use instead (to compare a variant)")
    p.add_argument("--games", type=positive_int, metavar="N",
                   help="only the first N games (in file order)")
    p.add_argument("--limit", type=positive_int, metavar="K",
                   help="at most K votes in all")
    p.add_argument("--threads", type=positive_int, help="llama.cpp threads (default: all cores)")
    p.add_argument("--ctx", type=positive_int, default=2048,
                   help="context tokens (default 2048, as in play)")
    p.add_argument("--prompt-style", choices=("auto", "chat", "completion"), default="auto",
                   help="chat template or plain completion prompts (default: from the GGUF)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mafia.report.load import load_games

    from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend
    from mafia.agents.model_seats import prompt_style
    from mafia.probe import GROUPS, probe, vote_points
    from mafia.agents.registry import resolve
    from mafia.agents.program import is_program_spec
    from mafia.agents.specs import BASELINES

    if args.agents in BASELINES or is_program_spec(args.agents) or "," in args.agents:
        raise MafiaError(f"--agents {args.agents}: probe asks one model (an alias or a "
                         ".gguf path)")
    if args.prompts is not None and not (Path(args.prompts) / "decision.j2").is_file():
        raise MafiaError(f"--prompts {args.prompts}: not a copy of prompts/ (no decision.j2)")
    loaded = load_games(args.path)
    games = loaded.games[: args.games] if args.games else loaded.games
    if not games:
        raise MafiaError(f"no finished games in {loaded.path}")
    points = [p for g in games for p in vote_points(g)][: args.limit]
    model = resolve(args.agents)
    backend = LlamaCppBackend(model, n_ctx=args.ctx, n_threads=args.threads, n_gpu_layers=0)
    style = prompt_style(args.prompt_style, backend.chat_template)
    err = Console(stderr=True, highlight=False)
    with Progress(TextColumn("probing votes"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as progress:
        task = progress.add_task("votes", total=len(points))
        tallies = asyncio.run(probe(points, backend, style=style, prompts_dir=args.prompts,
                                    on_point=lambda done: progress.update(task, completed=done)))
    data = {"path": str(loaded.path), "games": len(games), "model": args.agents,
            "prompts": args.prompts or "prompts/ (installed)",
            "groups": {g: t.to_json() for g, t in tallies.items()}}
    if args.json:
        print(json.dumps(data, indent=1))
        return 0
    table = Table(title=f"Votes re-asked: {args.agents}, {data['prompts']}, {len(games)} games",
                  title_justify="left")
    for column in ("voters", "votes", "P(right)", "95% CI", "random", "recorded",
                   "drawn now"):
        table.add_column(column, justify="left" if column == "voters" else "right")
    for group, t in data["groups"].items():
        if not t["decisions"]:
            continue
        ci = t["p_right_ci"]
        table.add_row(group, str(t["decisions"]), f"{t['p_right']:.3f}",
                      f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else "-", f"{t['random']:.3f}",
                      f"{t['recorded']:.3f}", f"{t['drawn']:.3f}")
    table.caption = ("right: " + "; ".join(GROUPS.values()) + ". P(right): the "
                     "probability the model's draw puts on a right option (mean over votes); "
                     "random: uniform over the options; recorded: share of the transcripts' "
                     "votes that hit one; drawn now: share of this probe's own draws.")
    Console(highlight=False).print(table)
    return 0
