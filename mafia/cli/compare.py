"""`mafia compare FOLDER...`: a leaderboard over sweep folders (see mafia/report/compare.py)."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from mafia.cli.common import non_negative_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="a leaderboard over sweep folders",
                       description="Pool the finished games of several folders (e.g. one sweep "
                                   "per model) and compare the players: legality, wins per "
                                   "side, a rating, town votes by day, and paired differences "
                                   "where folders share seeds.")
    p.add_argument("folders", nargs="+", metavar="FOLDER")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--bootstrap", type=non_negative_int, default=1000, metavar="B",
                   help="bootstrap resamples for the intervals (default 1000)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the bootstrap generator (default 0)")
    p.add_argument("--mixed-builds", action="store_true",
                   help="pool a model's games even where different builds played it")
    p.add_argument("--plots", metavar="DIR",
                   help="also write PNG charts: wins by side, rating, town votes by day, "
                        "paired differences")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mafia.report.compare import compare, load_arms
    from mafia.report.compare_render import render_compare

    if args.plots:
        from mafia.report.plots import plot_folder

        plot_folder(args.plots)  # an unwritable folder fails before the slow work
    arms = load_arms(args.folders, mixed_builds=args.mixed_builds)
    data = compare(arms, bootstrap=args.bootstrap, seed=args.seed)
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        out = Console(highlight=False)
        for part in render_compare(data):
            out.print(part)
    if args.plots:
        from mafia.report.compare_plots import write_compare_plots

        for path in write_compare_plots(data, args.plots):
            print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0
