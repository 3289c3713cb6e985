"""Building a report: load the games, compute every table, optionally run the baseline."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mafia.config import filled_rules
from mafia.errors import MafiaError
from mafia.report.baseline import Baseline, Comparison, compare, run_baseline
from mafia.report.behaviour import Behaviour, behaviour
from mafia.report.load import Game, Loaded, load_games
from mafia.report.metrics import ModelStats, TeamStats, model_stats, team_stats
from mafia.report.protocols import ProtocolStats, protocol_stats
from mafia.report.quality import Quality, quality
from mafia.report.rating import Ratings, rate

BASELINE_FIRST_SEED = 0  # baseline game i uses seed i (sweeps draw theirs from a hash)


@dataclass
class Report:
    loaded: Loaded
    config: dict[str, Any]  # rules of the first counted game
    configs: int  # distinct rule sets among counted games
    agents: dict[str, tuple[str, int]]  # spec -> (agent kind, seat-games)
    teams: TeamStats
    models: dict[str, ModelStats]
    ratings: Ratings
    behaviour: Behaviour
    quality: Quality
    protocols: dict[str, ProtocolStats] = field(default_factory=dict)
    builds: list[tuple[dict[str, Any], int]] = field(default_factory=list)  # (build, games)
    baseline: Baseline | None = None
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        out = [f"skipped {s.file}: {s.reason}" for s in self.loaded.skipped]
        if self.configs > 1:
            out.append(f"games use {self.configs} different rule sets; rules and the baseline "
                       "are those of the first game")
        out.extend(f"counted despite a bad line: {p}" for p in self.loaded.problems)
        return out


def build_report(path: str | Path, *, bootstrap: int = 200, seed: int = 0,
                 baseline_games: int = 2000,
                 on_baseline: Callable[[int], None] | None = None,
                 mixed_builds: bool = False) -> Report:
    """Everything `mafia report` shows. `seed` drives the bootstrap; baseline game i uses seed
    BASELINE_FIRST_SEED + i; `on_baseline(done)` is called after each baseline game. Games of
    different builds (code, prompts, model files, profiles) are refused unless
    `mixed_builds`."""
    loaded = load_games(path)
    games = loaded.games
    if not games:
        first = loaded.skipped[0]
        raise MafiaError(f"no finished games in {loaded.path}: {len(loaded.skipped)} "
                         f"transcript(s) skipped (e.g. {first.file}: {first.reason})")
    builds = _builds(games)
    if len(builds) > 1 and not mixed_builds:
        raise MafiaError(f"{loaded.path} holds games of {len(builds)} different builds "
                         f"({_build_difference(builds)}); pass --mixed-builds to pool them")
    kinds: dict[str, str] = {}
    seat_games: Counter[str] = Counter()
    for g in games:
        for s in g.seats.values():
            kinds.setdefault(s.spec, s.kind)
            seat_games[s.spec] += 1
    # Games recorded before a rule existed played under its default: the same rule set.
    configs = {json.dumps(filled_rules(g.config), sort_keys=True) for g in games}
    models = model_stats(games)
    report = Report(
        loaded=loaded, config=games[0].config, configs=len(configs),
        agents={s: (kinds[s], seat_games[s]) for s in sorted(kinds)},
        teams=team_stats(games), models=models, ratings=rate(games, bootstrap, seed),
        behaviour=behaviour(games), quality=quality(games),
        protocols=protocol_stats(games), builds=builds)
    add_baseline(report, baseline_games, on_baseline)
    return report


def _builds(games: list[Game]) -> list[tuple[dict[str, Any], int]]:
    """The distinct players' builds among the games, most games first."""
    counts = Counter(json.dumps(g.build, sort_keys=True) for g in games)
    return [(json.loads(key), n) for key, n in counts.most_common()]


def _build_difference(builds: list[tuple[dict[str, Any], int]]) -> str:
    """What differs between the first two builds, by name: build.prompts, SPEC.sha256, ..."""
    (a, n), (b, m) = builds[0], builds[1]
    if a.get("build") is None or b.get("build") is None:
        return f"{n} and {m} games; some recorded no build"
    names = [f"build.{k}" for k in a["build"] if a["build"].get(k) != b["build"].get(k)]
    for spec in sorted(set(a["seats"]) | set(b["seats"])):
        x, y = a["seats"].get(spec, {}), b["seats"].get(spec, {})
        names += [f"{spec}.{k}" for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
    return f"{n} and {m} games; differs in: {', '.join(names) or 'seats'}"


def add_baseline(report: Report, games: int,
                 on_game: Callable[[int], None] | None = None) -> None:
    """Play `games` random games under the report's rules (none when 0) and compare."""
    if games > 0:
        report.baseline = run_baseline(report.config, games, BASELINE_FIRST_SEED, on_game)
        report.comparisons = compare(report.models, report.baseline)
