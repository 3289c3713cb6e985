"""Ratings of player specs from game outcomes (the model itself lives in mafia.stats)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mafia.enums import Team, Winner
from mafia.report.load import Game
from mafia.stats import RatingGame, bootstrap_ratings, fit_ratings


@dataclass(frozen=True)
class Ratings:
    specs: tuple[str, ...]
    theta: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    beta: float  # the mafia side's log-odds advantage between equal teams
    games: int  # decided (non-draw) games the fit used
    bootstrap: int
    seed: int
    note: str  # why ratings are all 0, when they are

    def ranked(self) -> list[tuple[str, float, float, float]]:
        """(spec, rating, lo, hi), best first; ties by name so the order is stable."""
        rows = zip(self.specs, self.theta, self.lo, self.hi)
        return sorted(((s, float(t), float(a), float(b)) for s, t, a, b in rows),
                      key=lambda r: (-r[1], r[0]))


def rating_games(games: Sequence[Game]) -> list[RatingGame]:
    out = []
    for g in games:
        if g.winner not in (Winner.TOWN, Winner.MAFIA):
            continue  # the model says nothing about a draw or a jester's win
        seats = g.seats.values()
        out.append(RatingGame(tuple(s.spec for s in seats if s.team is Team.MAFIA),
                              tuple(s.spec for s in seats if s.team is Team.TOWN),
                              g.winner is Winner.MAFIA))
    return out


def rate(games: Sequence[Game], bootstrap: int = 200, seed: int = 0) -> Ratings:
    specs = tuple(sorted({s.spec for g in games for s in g.seats.values()}))
    decided = rating_games(games)
    fit = fit_ratings(decided, specs)
    zeros = np.zeros(len(specs))
    note = ""
    if len(specs) < 2:
        note = "one spec only: its rating is 0 by definition (ratings sum to 0)"
    elif not decided:
        note = "no decided games: nothing to rate"
    if note or bootstrap <= 0:
        lo, hi = (zeros, zeros) if note else (fit.theta, fit.theta)
    else:
        lo, hi = bootstrap_ratings(decided, specs, bootstrap, seed)
    return Ratings(specs, fit.theta, lo, hi, fit.beta, len(decided), bootstrap, seed, note)
