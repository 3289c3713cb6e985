"""`mafia check SPEC [--games N]`: a bot author's conformance test, as PettingZoo ships its
api_test. Plays N seeded games with SPEC at one seat (a different seat each game) among random
seats, every event and request checked by the second referee (`mafia.checker`), and reports
rule violations, timeouts, invalid actions and seconds per decision of the checked seat.
Exit status 0 when nothing failed (no violation, no crash, invalid actions within
--max-invalid), 1 otherwise: a CI step can run it as it is."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from mafia.checker import CheckedPlayer, GameChecker, RequestCheckFailed
from mafia.cli.common import (
    add_model_options, add_rules_options, model_options, positive_float, positive_int,
    rules_from_args,
)
from mafia.engine import Engine
from mafia.errors import MafiaError
from mafia.events import InvalidAction

from mafia.agents.seating import build_players


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="check a player spec against the rules (bot authors' CI)",
                       description=__doc__.split("\n\n")[0].replace("\n", " "))
    p.add_argument("spec", metavar="SPEC",
                   help="the seat to check: py:MODULE:FACTORY, cmd:COMMAND, a model, heuristic")
    p.add_argument("--games", type=positive_int, default=20, help="games to play (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first game (default 0)")
    p.add_argument("--timeout", type=positive_float, default=30.0, metavar="SECONDS",
                   help="time allowed per decision (default 30)")
    p.add_argument("--max-invalid", type=float, default=0.0, metavar="RATE",
                   help="invalid-action rate allowed before the check fails (default 0)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_rules_options(p)
    add_model_options(p)
    p.set_defaults(run=run)


@dataclass
class Timed:
    """The checked seat, with the wall time of each of its answers."""

    inner: Any
    seconds: list[float] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()  # type: ignore[no-any-return]

    async def act(self, request: Any) -> Any:
        start = time.perf_counter()
        try:
            return await self.inner.act(request)
        finally:
            self.seconds.append(time.perf_counter() - start)

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


@dataclass
class Tally:
    games: int = 0
    decisions: int = 0
    invalid: int = 0
    timeouts: int = 0
    seconds: list[float] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # "game G (seed S): what"
    errors: dict[str, int] = field(default_factory=dict)  # the seat's invalid actions, by why


async def _one(spec: str, rules: Any, seed: int, seat: int, args: argparse.Namespace,
               tally: Tally) -> None:
    specs = ["random"] * rules.players
    specs[seat] = spec
    inner: list[Any] = build_players(specs, rules.players, seed, model_options(args))
    checked = inner[seat] = Timed(inner[seat])
    checker = GameChecker(rules, allow_invalid=True)
    engine = Engine(rules, seed, [CheckedPlayer(p, checker) for p in inner], sinks=[checker],
                    timeout_s=args.timeout)
    where = f"game {tally.games} (seed {seed}, seat {seat})"
    try:
        result = await engine.run()
        checker.finish(result)
    except (AssertionError, RequestCheckFailed) as exc:
        tally.violations.append(f"{where}: {exc}")
        return
    finally:
        tally.games += 1
        tally.decisions += len(checked.seconds)
        tally.seconds += checked.seconds
    name = result.state.seats[seat]
    for e in result.events:
        if isinstance(e, InvalidAction) and e.player == name:
            tally.invalid += 1
            tally.timeouts += e.error.startswith("no answer within")
            why = e.error.split(":")[0][:60]
            tally.errors[why] = tally.errors.get(why, 0) + 1


def run(args: argparse.Namespace) -> int:
    spec = args.spec.strip()
    if not spec or spec == "random":
        raise MafiaError("mafia check SPEC: name the player to check (random seats fill the rest)")
    rules = rules_from_args(args)
    tally = Tally()
    console = Console(highlight=False)
    with Console(stderr=True).status("checking") as status:
        for i in range(args.games):
            status.update(f"game {i + 1}/{args.games}")
            asyncio.run(_one(spec, rules, args.seed + i, i % rules.players, args, tally))
    rate = tally.invalid / tally.decisions if tally.decisions else 0.0
    per = sorted(tally.seconds)
    failed = bool(tally.violations) or rate > args.max_invalid
    if args.json:
        print(json.dumps({
            "spec": spec, "games": tally.games, "players": rules.players,
            "violations": tally.violations, "decisions": tally.decisions,
            "invalid_actions": tally.invalid, "invalid_rate": rate, "timeouts": tally.timeouts,
            "invalid_by_reason": tally.errors,
            "seconds_per_decision": {"median": per[len(per) // 2], "max": per[-1]} if per else None,
            "passed": not failed}, indent=1))
        return 1 if failed else 0
    table = Table(title=f"mafia check {spec}: {tally.games} games, {rules.players} players")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("rule violations", str(len(tally.violations)))
    table.add_row("decisions", str(tally.decisions))
    table.add_row("invalid actions", f"{tally.invalid} ({100 * rate:.1f}%)")
    table.add_row("timeouts", str(tally.timeouts))
    if per:
        table.add_row("ms per decision (median, max)",
                      f"{1000 * per[len(per) // 2]:.1f}, {1000 * per[-1]:.1f}")
    console.print(table)
    for why, n in sorted(tally.errors.items(), key=lambda kv: -kv[1]):
        console.print(f"  invalid: {n} x {why}")
    for v in tally.violations:
        console.print(f"[red]violation[/red] {v}", markup=True)
    console.print("[red]FAIL[/red]" if failed else "[green]PASS[/green]")
    return 1 if failed else 0
