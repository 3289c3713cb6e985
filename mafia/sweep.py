"""Sweeps: many seeded games into one folder, resumable, fair across player specs.

Seat rotation ("duplicate" format): games come in blocks of K = len(specs). All K games of a
block share one game seed, hence one role deal and one engine random stream; in rotation r
seat j is played by specs[(j + r) % K]. Over a full block every spec sits in every seat, and
so plays every dealt role, exactly once: comparisons between specs are balanced by design.

Team sweeps (`--town SPEC --mafia SPEC`) do not rotate: one game per seed, the seed derived
as for a one-spec sweep, and each seat plays its team's spec under the seed's role deal.

A game's transcript is written to `<name>.part` and renamed to `<name>.jsonl` only after its
`game_over` event, so a finished file is a complete game and a killed sweep leaves only
`.part` files, which the next run deletes and plays again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from mafia import __version__
from mafia.bench import PeakPss, pss_bytes
from mafia.config import Rules, filled_rules
from mafia.engine import Engine, GameResult, run_game, run_in_slots
from mafia.errors import MafiaError
from mafia.events import BaseEvent
from mafia.provenance import build, compared
from mafia.transcript import TranscriptBuffer, TranscriptWriter

from mafia.agents.seating import build_players
from mafia.agents.specs import (
    ModelOptions, Teams, is_model_spec, seat_identity, split_endpoint,
)

MANIFEST = "sweep.json"


def derive_seed(seed: int, block: int) -> int:
    digest = hashlib.sha256(f"sweep:{seed}:{block}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class PlannedGame:
    index: int
    seed: int
    seat_specs: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"game-{self.index:06d}"


ROLLING = 4  # an in-flight block holds this many games per slot (see blocks)


@dataclass(frozen=True)
class SweepPlan:
    specs: tuple[str, ...]  # with teams: the distinct team specs
    seed: int
    rules: Rules
    options: ModelOptions
    teams: Teams | None = None
    # Games in flight per worker process (model sweeps): this many games at a time share
    # model contexts and batches (in blocks of ROLLING times as many consecutive games). It
    # changes the batches, so the games: it is part of the fingerprint when above 1.
    in_flight: int = 1

    @classmethod
    def for_teams(cls, teams: Teams, seed: int, rules: Rules,
                  options: ModelOptions) -> "SweepPlan":
        specs = tuple(dict.fromkeys((teams.town, teams.mafia)))
        return cls(specs, seed, rules, options, teams)

    def game(self, index: int) -> PlannedGame:
        if self.teams is not None:  # no rotation: the deal decides each seat's spec
            seed = derive_seed(self.seed, index)
            return PlannedGame(index, seed, tuple(self.teams.seat_specs(self.rules, seed)))
        k = len(self.specs)
        block, rotation = divmod(index, k)
        seats = tuple(self.specs[(j + rotation) % k] for j in range(self.rules.players))
        return PlannedGame(index, derive_seed(self.seed, block), seats)

    def fingerprint(self) -> dict[str, Any]:
        """What defines the sweep's games (not how many, not how many workers)."""
        options = asdict(self.options)
        # Program options are local too: a slower machine needs a longer bot timeout for the
        # same games, and where a bot's stderr goes changes nothing.
        for local_only in ("threads", "reuse_models", "gpu_layers", "program_timeout",
                           "program_log"):
            options.pop(local_only)
        teams = None if self.teams is None else asdict(self.teams)
        flight = ({"in_flight": self.in_flight, "in_flight_block": self.in_flight * ROLLING}
                  if self.in_flight > 1 else {})
        return {"agents": list(self.specs), "teams": teams, "seed": self.seed,
                "rules": self.rules.model_dump(mode="json"), "model_options": options,
                **flight, **self.players()}

    def players(self) -> dict[str, Any]:
        """Which build and which model files play: the part of the fingerprint that changes
        when the code, prompts, version or a model file change under the same command."""
        return {"build": compared(build()),
                "seats": {spec: seat_identity(spec, self.options) for spec in self.specs}}

    def seat_scheme(self) -> str:
        if self.teams is not None:
            return ("one game per seed; every town seat is played by teams.town, every mafia "
                    "seat by teams.mafia, under the seed's role deal (no rotation)")
        return ("blocks of len(agents) games share a seed; in rotation r, seat j is played "
                "by agents[(j + r) % len(agents)]")


@dataclass(frozen=True)
class GameOutcome:
    index: int
    winner: str
    days: int
    worker: int | None = None  # the process that played it (local executor), and its
    peak_pss_mib: float | None = None  # peak memory so far (PSS: shared pages split fairly)
    reported: bool = False  # already counted when its file appeared (only its stamp is new)


_MEMORY: PeakPss | None = None  # this worker process's memory sampler, started on first use


def _watch_memory() -> PeakPss:
    """This worker's memory sampler, started on the first call (it runs while games play)."""
    global _MEMORY
    if _MEMORY is None:
        _MEMORY = PeakPss()
        _MEMORY.start()
    return _MEMORY


def _stamped(outcomes: list[GameOutcome]) -> list[GameOutcome]:
    """The outcomes with this process's id and peak PSS so far (the sweep prints the peak
    per worker: a process playing K games in flight holds K games' contexts at once)."""
    peak = max(_watch_memory().peak, pss_bytes() or 0) / 2**20
    return [replace(o, worker=os.getpid(), peak_pss_mib=peak) for o in outcomes]


def play_planned(plan: SweepPlan, game: PlannedGame, folder: Path) -> GameOutcome:
    players = build_players(list(game.seat_specs), plan.rules.players, game.seed, plan.options)
    part = folder / f"{game.name}.part"
    with TranscriptWriter(part, flush_each=False) as writer:
        result = run_game(Engine(plan.rules, game.seed, players, sinks=[writer]))
    part.replace(folder / f"{game.name}.jsonl")  # atomic: only complete games get the name
    return GameOutcome(game.index, result.winner.value, result.days)


def play_in_memory(plan: SweepPlan, game: PlannedGame,
                   sinks: Sequence[Callable[[BaseEvent], None]] = ()) -> tuple[GameOutcome, bytes]:
    """One game and its transcript's bytes, exactly as play_planned would write them (for
    executors whose workers have no access to the sweep folder)."""
    players = build_players(list(game.seat_specs), plan.rules.players, game.seed, plan.options)
    buffer = TranscriptBuffer()
    result = run_game(Engine(plan.rules, game.seed, players, sinks=[buffer, *sinks]))
    return GameOutcome(game.index, result.winner.value, result.days), buffer.getvalue()


def save_game(folder: Path, game: PlannedGame, data: bytes) -> None:
    """Write a finished game's transcript as play_planned does: `.part`, then renamed."""
    part = folder / f"{game.name}.part"
    try:
        part.write_bytes(data)
        part.replace(folder / f"{game.name}.jsonl")
    except OSError as exc:
        raise MafiaError(f"cannot write transcript {part}: {exc.strerror or exc}") from None


def play_chunk(plan: SweepPlan, indices: Sequence[int], folder: str) -> list[GameOutcome]:
    """Worker entry point (top level, so process pools can pickle it)."""
    _watch_memory()
    return _stamped([play_planned(plan, plan.game(i), Path(folder)) for i in indices])


def blocks(plan: SweepPlan, todo: Sequence[int], games: int) -> list[tuple[int, ...]]:
    """The in-flight blocks holding unfinished games: games [b*M, b*M+M) of the sweep with
    M = ROLLING * K, fixed by the plan alone, so a resumed sweep plays every block as an
    uninterrupted one did. A block plays in K slots, each taking the block's next game when
    its own ends: the cores idle only at the block's end, while its last games finish (with
    blocks of K games they did at every K games, waiting for the longest)."""
    m = plan.in_flight * ROLLING
    starts = sorted({i // m * m for i in todo})
    return [tuple(range(s, min(s + m, games))) for s in starts]


def play_block(plan: SweepPlan, indices: Sequence[int], folder: str,
               skip: Sequence[int] = ()) -> list[GameOutcome]:
    """Worker entry point for `--in-flight`: the games `indices`, K at a time in this process
    (mafia.engine.run_in_slots), each model's seats of all slots in one context, batches
    formed at a barrier (see mafia.agents.backends.batched.Lockstep). A game in `skip`
    (already saved) is played again for the block's sake and not written; the others are
    saved as each ends (the sweep reports them as their files appear)."""
    from mafia.agents.model_seats import Block

    _watch_memory()
    games = [plan.game(i) for i in indices]
    block = Block([g.seat_specs for g in games], min(plan.in_flight, len(games)))
    buffers = [TranscriptBuffer() for _ in games]

    def start(i: int, slot: int) -> Engine:
        game = games[i]
        block.clear(slot)
        players = build_players(list(game.seat_specs), plan.rules.players, game.seed,
                                plan.options, block=block, slot=slot)
        block.lockstep.join(slot)
        return Engine(plan.rules, game.seed, players, sinks=[buffers[i]])

    out = []

    def save(i: int, result: GameResult) -> None:
        game = games[i]
        if game.index not in skip:
            save_game(Path(folder), game, buffers[i].getvalue())
            out.append(GameOutcome(game.index, result.winner.value, result.days))

    try:
        run_in_slots(len(games), plan.in_flight, start, ended=block.lockstep.leave, done=save)
    finally:
        block.close()  # before the worker's next block allocates its contexts
    return _stamped(sorted(out, key=lambda o: o.index))


def finished(folder: Path, games: int) -> dict[int, GameOutcome]:
    """Games already complete in `folder` (a .jsonl whose last event is game_over)."""
    done = (saved_outcome(folder, index) for index in range(games))
    return {o.index: o for o in done if o is not None}


def saved_outcome(folder: Path, index: int) -> GameOutcome | None:
    """Game `index`'s outcome if its transcript is complete in `folder`, else None."""
    path = folder / f"game-{index:06d}.jsonl"
    if not path.exists():
        return None
    try:
        event = json.loads(_last_line(path))
    except (ValueError, OSError):
        return None
    if isinstance(event, dict) and event.get("kind") == "game_over":
        return GameOutcome(index, str(event.get("winner")), int(event.get("days", 0)))
    return None


def _last_line(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 65536))
        tail = f.read().rstrip(b"\n")
    return tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")


def _upgraded(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """An older manifest's fingerprint with the rules of later versions filled in at their
    defaults (a sweep made before a rule existed played under its default), so adding a rule
    does not stop old sweeps from resuming."""
    rules = fingerprint.get("rules")
    if not isinstance(rules, dict):
        return fingerprint
    return {**fingerprint, "rules": filled_rules(rules)}  # not valid any more: it differs


PLAYERS = ("build", "seats")  # fingerprint keys --mixed-builds lets differ


def prepare_folder(folder: Path, plan: SweepPlan, command: list[str], games: int,
                   force: bool, runtime: dict[str, Any] | None = None,
                   mixed: bool = False) -> None:
    """Create or check the sweep folder and its manifest; clear stale partial games.

    A different command is refused (or, with `force`, started over). The same command with
    other players (code, prompts, version, model files, profile) is refused too, since one
    folder would then pool two players under one name; `mixed` allows it and the manifest's
    `builds` lists every one that played. `runtime` (executor, threads, llama.cpp build) is
    recorded but not compared: it does not define the games, yet explains why two machines'
    model games may differ."""
    fingerprint = plan.fingerprint()
    builds = [{**build(), "seats": fingerprint["seats"]}]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        manifest = folder / MANIFEST
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except ValueError:
                old = {}
            previous = _upgraded(old.get("fingerprint", {}))
            differs = [k for k, v in fingerprint.items() if previous.get(k) != v]
            command_differs = [k for k in differs if k not in PLAYERS]
            if command_differs and not force:
                raise MafiaError(
                    f"{folder} holds a sweep made with a different command (differs in: "
                    f"{', '.join(command_differs)}); use another --out, or --force to start "
                    "it over")
            if command_differs:
                for stale in folder.glob("game-*.jsonl"):
                    stale.unlink()
            elif differs and not mixed:
                raise MafiaError(
                    f"{folder} holds games of other players (differs in: "
                    f"{', '.join(_player_changes(previous, fingerprint))}); use another --out, "
                    "--mixed-builds to add this build's games to them, or --force to start "
                    "it over")
            elif differs:
                earlier = old.get("builds") or [{**previous.get("build", {}),
                                                 "seats": previous.get("seats")}]
                builds = [*earlier, *builds] if builds[0] not in earlier else earlier
            elif old.get("builds"):
                builds = old["builds"]
        for part in folder.glob("game-*.part"):
            part.unlink()  # games in flight when a previous run was killed: played again
        manifest.write_text(json.dumps({
            "command": command, "games": games, "version": __version__,
            "seat_scheme": plan.seat_scheme(),
            "fingerprint": fingerprint, "builds": builds,
            **({} if runtime is None else {"runtime": runtime}),
        }, indent=1) + "\n")
    except OSError as exc:
        raise MafiaError(f"cannot use sweep folder {folder}: {exc.strerror or exc}") from None


def _player_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two fingerprints' players, by name: build.prompts, seats.SPEC..."""
    if "build" not in old:
        return ["build (the folder's games were played before builds were recorded)"]
    out = []
    old_build, new_build = old.get("build") or {}, new["build"]
    out += [f"build.{k}" for k in new_build if old_build.get(k) != new_build[k]]
    old_seats = old.get("seats") or {}
    for spec, seat in new["seats"].items():
        before = old_seats.get(spec) or {}
        out += [f"{spec}.{k}" for k in seat if before.get(k) != seat[k]]
    return out or ["players"]


def runtime(executor: str, plan: SweepPlan) -> dict[str, Any]:
    """What model games depend on beyond the fingerprint: the executor that ran them, model
    threads (as the backends choose them) and the llama.cpp build."""
    models = any(is_model_spec(s) and split_endpoint(s)[1] is None
                 for s in plan.specs) and plan.options.endpoint is None
    threads = (plan.options.threads or os.cpu_count() or 1) if models else plan.options.threads
    try:
        build: str | None = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        build = None
    return {"executor": executor, "threads": threads, "llama_cpp": build}


def record_runtime(folder: Path, runtime: dict[str, Any]) -> None:
    """Replace the manifest's runtime (an executor learns its thread count only once it has
    seen its nodes)."""
    manifest = folder / MANIFEST
    try:
        data = json.loads(manifest.read_text())
        data["runtime"] = runtime
        manifest.write_text(json.dumps(data, indent=1) + "\n")
    except (OSError, ValueError) as exc:
        raise MafiaError(f"cannot update {manifest}: {exc}") from None
