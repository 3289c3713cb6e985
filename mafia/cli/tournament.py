"""`mafia tournament --agents a,b,c --games N --out DIR`: every ordered pair of specs plays
town against mafia, on the same seeds for every pair, each pairing a sweep folder of its own
(so resume, --workers and --executor ray work as in `mafia sweep`), then the `compare`
leaderboard over all of them."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from rich.console import Console

from mafia.cli import sweep
from mafia.cli.common import add_model_options, add_rules_options, non_negative_int, positive_int
from mafia.errors import MafiaError

from mafia.agents.specs import parse_specs

LEADERBOARD = "leaderboard.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tournament", help="every ordered pair of specs, town against mafia, "
                                          "and a leaderboard",
                       description="Every ordered pair (A, B) of the specs plays --games "
                                   "games with A as the town and B as the mafia, on the same "
                                   "seeds for every pair; one sweep folder per pairing in "
                                   "DIR, then the compare leaderboard. Re-running the same "
                                   "command resumes.")
    p.add_argument("--agents", required=True, metavar="SPEC,...", help="two or more specs")
    p.add_argument("--games", type=positive_int, required=True, help="games per pairing")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="sweep seed, the same for every pairing (default 0)")
    p.add_argument("--self-play", action="store_true",
                   help="also play each spec against itself (A as town and as mafia)")
    add_rules_options(p)
    p.add_argument("--workers", type=positive_int, help="as in mafia sweep")
    p.add_argument("--in-flight", type=positive_int, default=1, metavar="K",
                   help="as in mafia sweep")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="as in mafia sweep")
    p.add_argument("--ray-address", metavar="ADDR", help="as in mafia sweep")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="tournament folder: one sweep folder per pairing and leaderboard.json")
    p.add_argument("--force", action="store_true", help="as in mafia sweep, per pairing")
    p.add_argument("--mixed-builds", action="store_true", help="as in mafia sweep and compare")
    p.add_argument("--bootstrap", type=non_negative_int, default=1000, metavar="B",
                   help="bootstrap resamples for the leaderboard's intervals (default 1000)")
    add_model_options(p)
    p.set_defaults(run=run)


def folder_name(town: str, mafia: str) -> str:
    """A pairing's folder, `TOWN_vs_MAFIA`: its specs with path characters replaced."""
    def safe(spec: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "spec"

    return f"{safe(town)}_vs_{safe(mafia)}"


def pairings(specs: list[str], self_play: bool) -> list[tuple[str, str]]:
    return [(a, b) for a in specs for b in specs if a != b or self_play]


def run(args: argparse.Namespace) -> int:
    specs = list(dict.fromkeys(parse_specs(args.agents)))
    if len(specs) < 2 and not args.self_play:
        raise MafiaError("--agents needs two or more different specs (or --self-play)")
    pairs = pairings(specs, args.self_play)
    names = [folder_name(a, b) for a, b in pairs]
    if len(set(names)) != len(names):
        raise MafiaError("two specs differ only in characters a folder name cannot hold; "
                         "rename a file")
    root = Path(args.out)
    console = Console(highlight=False, stderr=True)
    folders = []
    for i, ((town, mafia), name) in enumerate(zip(pairs, names)):
        console.print(f"pairing {i + 1}/{len(pairs)}: {town} (town) vs {mafia} (mafia)",
                      markup=False, soft_wrap=True)
        one = argparse.Namespace(**{**vars(args), "agents": None, "town": town,
                                    "mafia": mafia, "out": str(root / name)})
        code = sweep.run(one)
        if code != 0:
            console.print(f"tournament stopped at pairing {i + 1}/{len(pairs)}; run the same "
                          "command again to resume", markup=False, soft_wrap=True)
            return code
        folders.append(root / name)
    return _leaderboard(folders, root, args)


def _leaderboard(folders: list[Path], root: Path, args: argparse.Namespace) -> int:
    from mafia.report.compare import compare, load_arms
    from mafia.report.compare_plots import write_compare_plots
    from mafia.report.compare_render import render_compare

    data = compare(load_arms(folders, mixed_builds=args.mixed_builds),
                   bootstrap=args.bootstrap, seed=args.seed)
    path = root / LEADERBOARD
    try:
        path.write_text(json.dumps(data, indent=1) + "\n")
    except OSError as exc:
        raise MafiaError(f"cannot write {path}: {exc.strerror or exc}") from None
    out = Console(highlight=False)
    for part in render_compare(data):
        out.print(part)
    plots = write_compare_plots(data, root / "plots")
    out.print(f"wrote {path} and {len(plots)} charts in {root / 'plots'}; again with: "
              f"mafia compare {' '.join(str(f) for f in folders)}", markup=False,
              soft_wrap=True)
    return 0
