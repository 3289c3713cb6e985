"""`mafia report PATH`: win rates, ratings, behaviour and a random-play baseline for a folder
of transcripts, as rich tables, JSON (--json) and PNG charts (--plots DIR)."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mafia.cli.common import non_negative_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="statistics over a folder of games (e.g. a sweep)",
                       description="Read every finished transcript (*.jsonl) in PATH and report "
                                   "win rates with Wilson intervals, ratings per model, "
                                   "behaviour metrics and a random-play baseline.")
    p.add_argument("path", metavar="PATH", help="a folder of transcripts (or one transcript)")
    p.add_argument("--json", action="store_true",
                   help="print the report as one JSON object (keys: see docs/reports.md)")
    p.add_argument("--plots", metavar="DIR", help="also write PNG charts into DIR")
    p.add_argument("--baseline-games", type=non_negative_int, default=2000, metavar="N",
                   help="random games for the baseline (default 2000; 0 skips it)")
    p.add_argument("--bootstrap", type=non_negative_int, default=200, metavar="B",
                   help="bootstrap resamples for rating intervals (default 200)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the bootstrap generator (default 0)")
    p.add_argument("--mixed-builds", action="store_true",
                   help="pool games played by different builds (code, prompts, model files "
                        "or profiles); each is listed")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: numpy, networkx and the engine are not needed by other commands.
    from mafia.report.build import add_baseline, build_report
    from mafia.report.json_out import report_json
    from mafia.report.plots import plot_folder, write_plots
    from mafia.report.render import render

    if args.plots:
        plot_folder(args.plots)  # fail before the slow part, not after
    report = build_report(args.path, bootstrap=args.bootstrap, seed=args.seed, baseline_games=0,
                          mixed_builds=args.mixed_builds)
    err = Console(stderr=True, highlight=False)
    if args.baseline_games:
        # A bar only on a terminal: piped stderr (e.g. under --json) stays clean.
        with Progress(TextColumn("random-play baseline"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True,
                      disable=not err.is_terminal) as progress:
            task = progress.add_task("baseline", total=args.baseline_games)
            add_baseline(report, args.baseline_games,
                         lambda done: progress.update(task, completed=done))
    data = report_json(report)
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        out = Console(highlight=False)
        for part in render(data):
            out.print(part)
    if args.plots:
        sys.stdout.flush()  # the report before the "wrote" lines on stderr
        for path in write_plots(data, args.plots):
            err.print(f"wrote {path}")
    return 0
