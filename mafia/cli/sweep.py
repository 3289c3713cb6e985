"""`mafia sweep`: many seeded games into a folder, in parallel, resumable."""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing
from functools import partial
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from mafia.cli.common import (
    add_model_options, add_rules_options, add_team_options, model_options, non_negative_int,
    positive_int, rules_from_args,
)
from mafia.errors import MafiaError
from mafia.sweep import (
    GameOutcome, SweepPlan, blocks, finished, play_block, play_chunk, prepare_folder,
    record_runtime, runtime, saved_outcome,
)

from mafia.agents.program import check_program_spec, is_program_spec
from mafia.agents.specs import BASELINES, Teams, choose_seating, is_model_spec, split_endpoint


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="play many seeded games into a folder",
                       description="Play many seeded games (seats rotated across the specs, "
                                   "or one spec per team with --town/--mafia), "
                                   "one transcript per game plus sweep.json. Re-running the "
                                   "same command resumes; more --games extends the sweep.")
    p.add_argument("--agents", metavar="SPEC,...",
                   help="player specs to compare (rotated over seats and roles)")
    add_team_options(p)
    p.add_argument("--games", type=positive_int, required=True, help="number of games")
    p.add_argument("--seed", type=non_negative_int, default=0, help="sweep seed (default 0)")
    add_rules_options(p)
    p.add_argument("--workers", type=positive_int,
                   help="parallel processes (default: one per core for random players, "
                        "1 when models play, since one game already uses every core); "
                        "with --executor ray, at most this many game slots")
    p.add_argument("--in-flight", type=positive_int, default=1, metavar="K",
                   help="model sweeps: games each worker plays at once, their seats in one "
                        "context per model and their calls batched together (default 1); "
                        "blocks of 4K consecutive games, a slot taking the next game when its "
                        "own ends, so a resumed sweep replays the same blocks; part of the "
                        "sweep's fingerprint")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: worker processes on this machine (default); ray: actors on "
                        "a Ray cluster, transcripts written here (needs mafia[ray])")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray "
                        "instance started for this sweep)")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder")
    p.add_argument("--force", action="store_true",
                   help="start over if DIR holds a sweep made with a different command")
    p.add_argument("--mixed-builds", action="store_true",
                   help="resume even though the code, prompts or model files changed since "
                        "DIR's games were played (the manifest lists every build)")
    add_model_options(p)
    p.set_defaults(run=run)


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 60:,.0f} games/min" if speed else "", style="progress.data.speed")


def run(args: argparse.Namespace) -> int:
    seating = choose_seating(args.agents, args.town, args.mafia)
    rules = rules_from_args(args)
    options = replace(model_options(args), reuse_models=True)
    if isinstance(seating, Teams):
        plan = SweepPlan.for_teams(seating, args.seed, rules, options)
    else:
        plan = SweepPlan(tuple(seating), args.seed, rules, options)
    specs = plan.specs
    models = [s for s in specs if is_model_spec(s)]
    flight = getattr(args, "in_flight", 1)
    if flight > 1 and models:  # baseline-only sweeps have no batches to share
        if args.executor == "ray":
            raise MafiaError("--in-flight works with the local executor only")
        if options.backend != "batched" or options.endpoint is not None or any(
                split_endpoint(s)[1] for s in models):
            raise MafiaError("--in-flight needs local models on the batched backend")
        plan = replace(plan, in_flight=flight)
    if models and options.endpoint is None:
        from mafia.agents.registry import resolve

        for spec in models:
            if split_endpoint(spec)[1] is None:  # a served model needs no local file
                resolve(spec)  # a bad spec is one error line now, not one per game later
    for spec in specs:
        if is_program_spec(spec):
            check_program_spec(spec)
    if args.executor == "ray":
        from mafia.executors.ray_executor import require_ray

        require_ray()
    workers = args.workers or (1 if models else (os.cpu_count() or 1))
    folder = Path(args.out)
    prepare_folder(folder, plan, ["mafia", *sys.argv[1:]], args.games, args.force,
                   runtime(args.executor, plan), mixed=args.mixed_builds)
    done = finished(folder, args.games)
    todo = [i for i in range(args.games) if i not in done]
    console = Console(highlight=False, stderr=True)
    wins = Counter(o.winner for o in done.values())
    start = time.perf_counter()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    ray_sweep = None
    peaks: dict[int, float] = {}  # worker process -> its peak PSS (MiB)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      RateColumn(), TimeRemainingColumn(), console=console,
                      transient=False) as progress:
            task = progress.add_task(_wins(wins), total=args.games, completed=len(done))
            if args.executor == "ray":
                from mafia.executors.chaos import Chaos
                from mafia.executors.ray_executor import RaySweep

                ray_sweep = RaySweep(plan, todo, folder, address=args.ray_address,
                                     workers=args.workers, chaos=Chaos.from_env(),
                                     note=lambda text: progress.console.print(
                                         text, markup=False, soft_wrap=True))
                games = ray_sweep.run()
            else:
                games = _play(plan, todo, folder, workers, args.games)
            with closing(games):
                for outcomes in games:
                    new = [o for o in outcomes if not o.reported]
                    wins.update(o.winner for o in new)
                    for o in outcomes:
                        if o.worker is not None and o.peak_pss_mib is not None:
                            peaks[o.worker] = max(peaks.get(o.worker, 0.0), o.peak_pss_mib)
                    progress.update(task, advance=len(new), description=_wins(wins))
    except KeyboardInterrupt:
        complete = len(finished(folder, args.games))
        console.print(f"interrupted: {complete}/{args.games} games complete in {folder}; "
                      "run the same command again to resume", markup=False, soft_wrap=True)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    seconds = time.perf_counter() - start
    per_s = len(todo) / seconds if todo and seconds > 0 else 0.0
    rate = ""
    if per_s:
        rate = f" ({per_s:,.0f} games/s)" if per_s >= 10 else f" ({per_s * 60:,.1f} games/min)"
    console.print(f"sweep: {args.games} games in {folder} ({len(todo)} played now, "
                  f"{len(done)} already done) in {seconds:.1f} s{rate} · {_wins(wins)}",
                  markup=False, soft_wrap=True)
    if peaks and any(is_model_spec(s) for s in specs):
        memory = sorted(peaks.values(), reverse=True)
        console.print("peak memory (PSS) per worker: " + ", ".join(f"{m:,.0f}" for m in memory)
                      + " MiB", markup=False, soft_wrap=True)
        record_runtime(folder, {**runtime(args.executor, plan),
                                "peak_pss_mib": [round(m, 1) for m in memory]})
    if ray_sweep is not None and ray_sweep.first_game_s is not None:
        console.print(f"ray: first game after {ray_sweep.first_game_s:.1f} s; "
                      f"{ray_sweep.replayed} games played again after a worker died",
                      markup=False, soft_wrap=True)
    console.print(f"next: mafia report {folder}", markup=False, soft_wrap=True)
    if ray_sweep is not None and ray_sweep.failed:
        for game in ray_sweep.failed:
            console.print(f"failed: game {game.index} (seed {game.seed}): {game.error}",
                          markup=False, soft_wrap=True)
        console.print(f"{len(ray_sweep.failed)} games failed and are missing from {folder}; "
                      "running the same command again plays them again",
                      markup=False, soft_wrap=True)
        return 1
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wins(wins: Counter[str]) -> str:
    own = sorted(set(wins) - {"town", "mafia", "draw"})  # e.g. the jester, once it has won
    return " · ".join(f"{team} {wins[team]}" for team in ("town", "mafia", *own, "draw"))


def _chunks(todo: list[int], workers: int, models: bool) -> list[list[int]]:
    size = 1 if models else max(1, min(50, len(todo) // (workers * 8) or 1))
    return [todo[i:i + size] for i in range(0, len(todo), size)]


WATCH_S = 1.0  # how often an in-flight sweep looks for games its workers have saved


def _play(plan: SweepPlan, todo: list[int], folder: Path, workers: int,
          games: int) -> Iterator[list[GameOutcome]]:
    """Outcomes, one list per finished chunk of games. In-flight blocks are long (4K games),
    so their games are reported as their files appear, and the block's outcomes, which carry
    the worker's memory stamp, come back marked `reported`; blocks always run in worker
    processes, so that this one can watch."""
    models = any(s not in BASELINES for s in plan.specs)
    watch: set[int] = set()  # games not yet reported
    parts: Sequence[Sequence[int]]  # the games of each job
    if plan.in_flight > 1:
        watch = set(todo)
        # A block holds every game of its schedule; the ones already saved are replayed, not saved.
        parts = blocks(plan, todo, games)
        jobs = [(play_block, (plan, block, str(folder), tuple(i for i in block if i not in watch)))
                for block in parts]
    else:
        parts = _chunks(todo, workers, models)
        jobs = [(play_chunk, (plan, chunk, str(folder))) for chunk in parts]
        if workers == 1:
            for fn, job_args in jobs:
                yield fn(*job_args)
            return
    # spawn, not fork: the parent has threads (the progress display).
    context = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                  initializer=_quiet_worker)
    try:
        futures = [pool.submit(fn, *job_args) for fn, job_args in jobs]
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, timeout=WATCH_S if watch else None,
                                    return_when=cf.FIRST_COMPLETED)
            # Only the games of blocks a worker has started (or just ended) can appear.
            started = {i for part, f in zip(parts, futures) if watch and (f.running() or f.done())
                       for i in part}
            appeared = [o for o in map(partial(saved_outcome, folder), sorted(watch & started)) if o]
            watch -= {o.index for o in appeared}
            if appeared:
                yield appeared
            for future in sorted(done, key=futures.index):
                outcomes = future.result()
                yield [replace(o, reported=plan.in_flight > 1 and o.index not in watch)
                       for o in outcomes]
                watch -= {o.index for o in outcomes}
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()  # games in flight are lost; their .part files are replayed
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _quiet_worker() -> None:
    # Ctrl-C goes to the whole process group: the parent decides, workers just stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

