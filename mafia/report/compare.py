"""`mafia compare`: a leaderboard over sweep folders.

Every folder's finished games are pooled, and each player spec is one entry (a spec is the
same player in every folder only if the same build played it: folders whose builds of a spec
differ are refused unless asked). Figures, in the order a reader should trust them:
- legality: each spec's invalid actions per decision;
- wins per side: of the games in which the spec held a seat on that side, how many that side
  won (each game counted once per spec and side, so the Wilson interval is over games);
- a rating: the report's logistic team-strength fit over every decided game, with bootstrap
  intervals (resampling games);
- town votes on mafia, day 1 apart from later days, each against what uniform random votes
  over the same living players would hit (the lift);
- paired differences: two folders that played the same seeds under the same rules played the
  same deals, so the difference of their town win rates over those seeds, with a bootstrap
  interval over seeds, removes the luck of the deal.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from mafia.config import filled_rules
from mafia.enums import Winner
from mafia.errors import MafiaError
from mafia.report.behaviour import behaviour
from mafia.report.load import Game, load_games
from mafia.report.metrics import model_stats
from mafia.report.rating import rate
from mafia.stats import Proportion


@dataclass
class Arm:
    """One folder: its name in the tables, its games, the specs that played them."""

    name: str
    path: Path
    games: list[Game]

    @property
    def specs(self) -> list[str]:
        return sorted({s.spec for g in self.games for s in g.seats.values()})

    @cached_property
    def by_seed(self) -> dict[tuple[int, str], list[float]]:
        """(seed, rules) -> the town's result (1 won, 0 not) in each game of that deal."""
        out: dict[tuple[int, str], list[float]] = defaultdict(list)
        for g in self.games:
            out[g.seed, _rules_key(g)].append(_town_won(g))
        return out

    @property
    def label(self) -> str:
        """What played it: "A" for one spec, "A (town) vs B (mafia)" for a team sweep."""
        sides: dict[str, set[str]] = defaultdict(set)
        for g in self.games:
            for s in g.seats.values():
                sides[s.team.value].add(s.spec)
        town, mafia = sorted(sides["town"]), sorted(sides["mafia"])
        if town == mafia:
            return ", ".join(town)
        return f"{', '.join(town)} (town) vs {', '.join(mafia)} (mafia)"


def load_arms(paths: Sequence[str | Path], mixed_builds: bool = False) -> list[Arm]:
    """Each folder's finished games; MafiaError for a folder without any, or when one spec
    was played by different builds (within or across folders) and `mixed_builds` is off."""
    arms = []
    names: set[str] = set()
    for path in paths:
        loaded = load_games(path)
        if not loaded.games:
            raise MafiaError(f"no finished games in {loaded.path}")
        name = Path(path).name or str(path)
        while name in names:
            name += "'"
        names.add(name)
        arms.append(Arm(name, Path(path), loaded.games))
    if not mixed_builds:
        _check_builds(arms)
    return arms


def _check_builds(arms: list[Arm]) -> None:
    seen: dict[str, tuple[str, str]] = {}  # spec -> (its build as JSON, first folder)
    for arm in arms:
        for game in arm.games:
            for spec in {s.spec for s in game.seats.values()}:
                key = json.dumps({"build": game.build.get("build"),
                                  "seat": game.build.get("seats", {}).get(spec)},
                                 sort_keys=True)
                first = seen.setdefault(spec, (key, arm.name))
                if first[0] != key:
                    raise MafiaError(
                        f"{spec} was played by different builds in {first[1]} and {arm.name} "
                        "(code, prompts, model files or profile differ: see mafia report); "
                        "pass --mixed-builds to pool them")


def side_wins(games: Sequence[Game]) -> dict[str, dict[str, Proportion]]:
    """spec -> side -> games its side won, out of the games it held a seat on that side."""
    won: dict[tuple[str, str], int] = defaultdict(int)
    played: dict[tuple[str, str], int] = defaultdict(int)
    for g in games:
        for spec, side in {(s.spec, s.team.value) for s in g.seats.values()}:
            played[spec, side] += 1
            won[spec, side] += g.winner.value == side
    out: dict[str, dict[str, Proportion]] = defaultdict(dict)
    for (spec, side), n in sorted(played.items()):
        out[spec][side] = Proportion(won[spec, side], n)
    return dict(out)


def _town_won(game: Game) -> float:
    return 1.0 if game.winner is Winner.TOWN else 0.0


def _rules_key(game: Game) -> str:
    return json.dumps(filled_rules(game.config), sort_keys=True)


def paired(a: Arm, b: Arm, bootstrap: int, seed: int) -> dict[str, Any] | None:
    """Town win rate of a minus b over the seeds both played under the same rules, or None
    when they share none. A seed's rate is the mean over its games (a rotation sweep plays
    each seed once per spec)."""
    sa, sb = a.by_seed, b.by_seed
    shared = sorted(set(sa) & set(sb))
    if not shared:
        return None
    diffs = np.array([np.mean(sa[k]) - np.mean(sb[k]) for k in shared])
    rng = np.random.default_rng(seed)
    draws = ([float(diffs[rng.integers(0, len(diffs), len(diffs))].mean())
              for _ in range(bootstrap)] if bootstrap > 0 else [float(diffs.mean())])
    return {"a": a.name, "b": b.name, "seeds": len(shared),
            "a_town": float(np.mean([np.mean(sa[k]) for k in shared])),
            "b_town": float(np.mean([np.mean(sb[k]) for k in shared])),
            "difference": float(diffs.mean()),
            "ci": [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))],
            "bootstrap": bootstrap}


def compare(arms: Sequence[Arm], bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The leaderboard as JSON-ready data (keys: see docs/reports.md, Comparing sweeps)."""
    games = [g for arm in arms for g in arm.games]
    stats = model_stats(games)
    ratings = rate(games, bootstrap, seed)
    votes = behaviour(games)
    wins = side_wins(games)
    specs = [s for s, *_ in ratings.ranked()]
    rows = {}
    for spec, value, lo, hi in ratings.ranked():
        m = stats[spec]
        rows[spec] = {
            "invalid_actions": m.overall.invalid,
            "decisions": m.overall.decisions,
            "invalid_rate": m.overall.invalid_rate.to_json(),
            "wins": {side: p.to_json() for side, p in wins.get(spec, {}).items()},
            "rating": {"value": value, "ci": [lo, hi]},
            "town_votes": _by_day(votes.town_by_spec_day, spec),
            "mafia_votes_on_teammate": _by_day(votes.bus_by_spec_day, spec),
            "detective_votes_on_found_mafia": _by_day(votes.detective_by_spec_day, spec),
        }
    pairs = [p for i, a in enumerate(arms) for b in arms[i + 1:]
             if (p := paired(a, b, bootstrap, seed)) is not None]
    return {
        "folders": [{"name": a.name, "path": str(a.path), "games": len(a.games),
                     "players": a.label,
                     "town": Proportion(sum(g.winner is Winner.TOWN for g in a.games),
                                        len(a.games)).to_json()} for a in arms],
        "games": len(games), "specs": specs, "models": rows,
        "rating": {"beta": ratings.beta, "games": ratings.games, "bootstrap": bootstrap,
                   "seed": seed, "note": ratings.note},
        "paired": pairs,
    }


def _by_day(tallies: dict[tuple[str, str], Any], spec: str) -> dict[str, Any]:
    return {when: tallies[spec, when].to_json() for when in ("day 1", "later")
            if (spec, when) in tallies}


def legal_first(data: dict[str, Any]) -> list[str]:
    """Specs ordered for the legality table: most invalid actions per decision first."""
    return sorted(data["models"], key=lambda s: -(data["models"][s]["invalid_rate"]["rate"]
                                                  or 0.0))

