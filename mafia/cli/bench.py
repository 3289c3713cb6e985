"""`mafia bench`: play K seeded games with one model and report speed, tokens and memory."""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from mafia.bench import Breakdown, GameFigures, PeakPss, figures, timed
from mafia.cli.common import (
    add_model_options, add_rules_options, model_options, non_negative_int, positive_int,
    rules_from_args,
)
from mafia.cli.play import play_game

from mafia.agents.seating import build_players
from mafia.agents.specs import ModelOptions, is_model_spec, parse_specs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark model games (time, tokens, memory)",
                       description="Play K seeded games and report wall time, model time, "
                                   "engine overhead, tokens and peak memory (PSS).")
    p.add_argument("--agents", default="gemma3-270m", metavar="SPEC,...",
                   help="player specs (default gemma3-270m)")
    p.add_argument("--games", type=positive_int, default=3, help="games to play (default 3)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the first game; game i uses seed+i (default 0)")
    add_rules_options(p)
    p.add_argument("--out", metavar="DIR", help="keep the transcripts in DIR")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_model_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mafia.agents.backends.multi_seq import PROFILE

    rules = rules_from_args(args)
    specs = parse_specs(args.agents)
    console = Console(highlight=False, stderr=args.json)
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="mafia-bench-"))
    games: list[GameFigures] = []
    floor = Floor.for_specs(specs, model_options(args), console)
    with PeakPss() as pss:
        for i in range(args.games):
            seed = args.seed + i
            with console.status(f"game {i + 1}/{args.games} (seed {seed})", spinner="dots"):
                players, load_s = timed(lambda: build_players(specs, rules.players, seed,
                                                              model_options(args)))
                before = PROFILE.snapshot()
                result, wall_s = timed(lambda: play_game(rules, seed, players,
                                                         out_dir / f"seed{seed}.jsonl"))
                profile = PROFILE.snapshot().since(before)
            game = figures(seed, result.winner.value, result.days, result.events, wall_s,
                           load_s, pss.peak)
            # Let this game's contexts go before measuring or the next game: seats and their
            # model refer to each other, so the KV cells wait for the cycle collector.
            players = []
            gc.collect()
            if floor:
                with console.status("measuring llama.cpp rates again", spinner="dots"):
                    floor.game_over()
                game = floor.apply(game, result.events, profile)
            games.append(game)
            console.print(f"game {i + 1}/{args.games}: seed {seed}, {result.winner.value}, "
                          f"{wall_s:.1f} s")
    rates = asdict(floor.start_rates) if floor else None
    if args.json:
        print(json.dumps({"agents": specs, "players": rules.players, "rates": rates,
                          "games": [asdict(g) | {"evaluated_tokens": g.evaluated_tokens,
                                                 "floor_ratio": g.floor_ratio,
                                                 "depth0_floor_ratio": g.depth0_floor_ratio}
                                    for g in games],
                          "median_wall_s": statistics.median(g.wall_s for g in games),
                          "peak_pss_mib": pss.peak / 2**20}, indent=1))
    else:
        console.print(table(games, specs, rules.players))
        if floor:
            r = floor.start_rates
            console.print(f"llama.cpp rates measured at start: prefill "
                          f"{r.prefill_tok_s():.0f} tok/s at depth 0, "
                          f"{r.prefill_tok_s(1000):.0f} at depth 1,000; decode "
                          f"{r.decode_tok_s():.0f} / {r.decode_tok_s(1000):.0f} tok/s (each "
                          f"game's floor uses the mean of the rates measured just before and "
                          f"after it)")
        console.print(f"peak PSS {pss.peak / 2**20:.0f} MiB · transcripts in {out_dir}")
    return 0


ROWS = (
    ("winner", lambda g: g.winner), ("days", lambda g: str(g.days)),
    ("wall s", lambda g: f"{g.wall_s:.1f}"), ("model s", lambda g: f"{g.model_s:.1f}"),
    ("engine overhead s", lambda g: f"{g.overhead_s:.2f}"),
    ("load s", lambda g: f"{g.load_s:.1f}"), ("model calls", lambda g: str(g.calls)),
    ("prompt tokens", lambda g: str(g.prompt_tokens)),
    ("  evaluated", lambda g: str(g.evaluated_tokens)),
    ("  reused from cache", lambda g: str(g.reused_tokens)),
    ("  copied from another seat", lambda g: str(g.copied_tokens)),
    ("generated tokens", lambda g: str(g.generated_tokens)),
    ("generated tok/s of model time", lambda g: f"{g.gen_tok_s:.0f}"),
    ("invalid actions / decisions", lambda g: f"{g.invalid_actions}/{g.decisions}"),
    ("floor s (llama.cpp rates at each token's depth)", lambda g: _opt(g.floor_s, ".1f")),
    ("wall / floor", lambda g: _opt(g.floor_ratio, ".2f")),
    ("  floor prefill tokens", lambda g: _opt(g.floor_prefill_tokens, "d")),
    ("  shared tokens re-read per seat", lambda g: _opt(g.shared_tokens, "d")),
    ("  mean depth of new prompt tokens", lambda g: _opt(g.prefill_depth, ".0f")),
    ("  prefill / decode tok/s, depth 0", lambda g: _rates(g.prefill_tok_s, g.decode_tok_s)),
    ("  prefill / decode tok/s, depth 1k",
     lambda g: _rates(g.prefill_tok_s_1k, g.decode_tok_s_1k)),
    ("wall / floor at depth-0 rates", lambda g: _opt(g.depth0_floor_ratio, ".2f")),
    ("where the wall went, s (floor)", lambda g: ""),
    ("  llama_decode, prompts", lambda g: _part(g, "prompt")),
    ("    tokens / per llama_decode", lambda g: _per(g, "prompt")),
    ("  llama_decode, generation steps", lambda g: _part(g, "step")),
    ("    tokens / per step", lambda g: _per(g, "step")),
    ("  text re-read (+) or copied beyond the floor (-)", lambda g: _opt(g.breakdown and g.breakdown.reread_s, ".1f")),
    ("  backend Python (tokenize, sample, score)",
     lambda g: _opt(g.breakdown and g.breakdown.python_s, ".1f")),
    ("  outside the backend (engine, players)",
     lambda g: _opt(g.breakdown and g.breakdown.outside_s, ".1f")),
    ("peak PSS MiB (so far)", lambda g: f"{g.peak_pss_mib:.0f}"),
)


def _part(g: GameFigures, phase: str) -> str:
    b = g.breakdown
    if b is None:
        return "n/a"
    return f"{getattr(b, phase + '_s'):.1f} ({getattr(b, phase + '_floor_s'):.1f})"


def _per(g: GameFigures, phase: str) -> str:
    b = g.breakdown
    if b is None:
        return "n/a"
    tokens, decodes = getattr(b, phase + "_tokens"), getattr(b, phase + "_decodes")
    return f"{tokens} / {tokens / decodes:.1f}" if decodes else f"{tokens} / -"


def _rates(prefill: float | None, decode: float | None) -> str:
    return "n/a" if prefill is None or decode is None else f"{prefill:.0f} / {decode:.0f}"


def _opt(value: float | int | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


class Floor:
    """Rates measured at the start and after every game, applied to each game's tokens (see
    agents/floor.py). A game uses the mean of the rates measured just before and just after
    it: this machine's speed drifts by tens of percent over minutes."""

    def __init__(self, meter: Any, count: Any) -> None:
        self.meter, self.count = meter, count
        self.start_rates = self.last = meter.measure()

    def game_over(self) -> None:
        """Measure again; the game just played gets the mean of before and after."""
        from mafia.agents.floor import Rates

        before, self.last = self.last, self.meter.measure()
        self.rates = Rates.mean(before, self.last)

    @classmethod
    def for_specs(cls, specs: list[str], options: ModelOptions,
                  console: Console) -> "Floor | None":
        models = {s for s in specs if is_model_spec(s)}
        if len(models) != 1 or options.endpoint is not None:
            return None  # a floor needs one in-process model
        from mafia.agents.floor import RateMeter, token_counter
        from mafia.agents.registry import resolve

        model = resolve(models.pop())
        with console.status("measuring llama.cpp prefill and decode rates", spinner="dots"):
            return cls(RateMeter(model, options.threads), token_counter(model))

    def apply(self, game: GameFigures, events: Any, profile: Any) -> GameFigures:
        from mafia.agents.floor import floor_tokens

        tokens = floor_tokens(events, self.count)
        r = self.rates
        floor_s = tokens.seconds(r)
        # Only the batched backend counts its work (the simple one has no breakdown).
        breakdown = Breakdown.of(game.wall_s, floor_s, profile, r) if profile.runs else None
        return replace(game, floor_s=floor_s, breakdown=breakdown,
                       depth0_floor_s=tokens.seconds(r.at_depth_zero()),
                       floor_prefill_tokens=tokens.prefill, shared_tokens=tokens.shared_saved,
                       prefill_tok_s=r.prefill_tok_s(), decode_tok_s=r.decode_tok_s(),
                       prefill_tok_s_1k=r.prefill_tok_s(1000),
                       decode_tok_s_1k=r.decode_tok_s(1000), prefill_depth=tokens.mean_depth)


def table(games: list[GameFigures], specs: list[str], players: int) -> Table:
    """One column per game (seed), plus a total column; one row per figure."""
    t = Table(title=f"mafia bench: {','.join(specs)}, {players} players", title_justify="left")
    t.add_column("")
    for g in games:
        t.add_column(f"seed {g.seed}", justify="right")
    total = None
    if len(games) > 1:
        total = GameFigures(
            seed=-1, winner=f"med. {statistics.median(g.wall_s for g in games):.1f}s wall",
            days=sum(g.days for g in games), wall_s=sum(g.wall_s for g in games),
            load_s=sum(g.load_s for g in games), model_s=sum(g.model_s for g in games),
            calls=sum(g.calls for g in games),
            prompt_tokens=sum(g.prompt_tokens for g in games),
            reused_tokens=sum(g.reused_tokens for g in games),
            copied_tokens=sum(g.copied_tokens for g in games),
            generated_tokens=sum(g.generated_tokens for g in games),
            invalid_actions=sum(g.invalid_actions for g in games),
            decisions=sum(g.decisions for g in games),
            peak_pss_mib=max(g.peak_pss_mib for g in games),
            floor_s=sum(g.floor_s or 0 for g in games) or None,
            depth0_floor_s=sum(g.depth0_floor_s or 0 for g in games) or None,
            floor_prefill_tokens=sum(g.floor_prefill_tokens or 0 for g in games) or None,
            shared_tokens=sum(g.shared_tokens or 0 for g in games) or None,
            breakdown=Breakdown.total([g.breakdown for g in games if g.breakdown]))
        t.add_column("total", justify="right", style="bold")
    for label, cell in ROWS:
        t.add_row(label, *(cell(g) for g in games), *((cell(total),) if total else ()))
    return t
