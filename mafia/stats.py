"""Pure statistics for reports: Wilson intervals, a two-proportion z-test, and a team-logistic
(Bradley-Terry style) rating of player specs with a bootstrap interval. numpy only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials. Unlike the normal (Wald) interval it
    stays inside [0, 1] and is not degenerate at 0/n or n/n. n = 0 gives (0, 1): no data."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


@dataclass(frozen=True)
class Proportion:
    """k out of n, with its rate and Wilson 95% interval."""

    k: int
    n: int

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def ci(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def to_json(self) -> dict[str, object]:
        return {"k": self.k, "n": self.n, "rate": self.rate, "ci": list(self.ci)}


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float] | None:
    """Two-sided pooled two-proportion z-test of k1/n1 against k2/n2: (z, p-value).

    z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with the pooled p = (k1 + k2) / (n1 + n2);
    p-value = P(|Z| >= |z|) = erfc(|z| / sqrt 2). None when either sample is empty; when the
    pooled rate is 0 or 1 the samples cannot differ: (0, 1)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


# ---- rating ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingGame:
    """One decided game for the rating: the spec of every seat on each team, and who won."""

    mafia: tuple[str, ...]
    town: tuple[str, ...]
    mafia_won: bool


@dataclass(frozen=True)
class RatingFit:
    specs: tuple[str, ...]
    theta: np.ndarray  # one rating per spec, summing to 0
    beta: float  # the mafia side's advantage (log-odds) between equal teams
    iterations: int
    converged: bool

    def rating(self, spec: str) -> float:
        return float(self.theta[self.specs.index(spec)])


def design(games: Sequence[RatingGame], specs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """X[g, s] = share of game g's mafia seats held by spec s minus its share of town seats, so
    X @ theta = mean(theta over mafia seats) - mean(theta over town seats); y = mafia won."""
    index = {s: i for i, s in enumerate(specs)}
    x = np.zeros((len(games), len(specs)))
    for g, game in enumerate(games):
        for s in game.mafia:
            x[g, index[s]] += 1 / len(game.mafia)
        for s in game.town:
            x[g, index[s]] -= 1 / len(game.town)
    y = np.array([1.0 if g.mafia_won else 0.0 for g in games])
    return x, y


def sum_zero_basis(k: int) -> np.ndarray:
    """An orthonormal (k, k-1) basis of {theta : sum(theta) = 0}. Every row of X sums to 0, so
    a common shift of all ratings changes nothing: the constraint pins it."""
    _, _, vt = np.linalg.svd(np.ones((1, k)))
    return vt[1:].T


def penalized_loglik(x: np.ndarray, y: np.ndarray, beta: float, theta: np.ndarray,
                     ridge: float) -> float:
    eta = beta + x @ theta
    return float(np.sum(y * eta - np.logaddexp(0.0, eta))
                 - ridge / 2 * (beta * beta + theta @ theta))


def fit_ratings(games: Sequence[RatingGame], specs: Sequence[str] | None = None,
                ridge: float = 1e-3, max_iter: int = 200, tol: float = 1e-9) -> RatingFit:
    """Maximise the penalised log-likelihood of logit P(mafia wins) = beta + X @ theta by
    Newton's method with step halving, theta constrained to sum to 0. The small ridge on every
    parameter keeps the fit finite when one spec (or one side) wins every game."""
    specs = tuple(specs) if specs is not None else tuple(sorted(
        {s for g in games for s in g.mafia + g.town}))
    x, y = design(games, specs)
    z = sum_zero_basis(len(specs)) if len(specs) > 1 else np.zeros((len(specs), 0))
    a = np.hstack([np.ones((len(games), 1)), x @ z])  # parameters w = (beta, phi)
    w = np.zeros(a.shape[1])

    def objective(w_: np.ndarray) -> float:
        return penalized_loglik(x, y, float(w_[0]), z @ w_[1:], ridge)

    converged, it = False, 0
    for it in range(1, max_iter + 1):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (y - p) - ridge * w
        hess = a.T @ (a * (p * (1 - p))[:, None]) + ridge * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        # Converged when the gradient, or the gain Newton still expects (grad @ step / 2), is
        # negligible; the second catches optima where rounding keeps the gradient above tol.
        if np.max(np.abs(grad)) < tol or grad @ step < 1e-24:
            converged = True
            break
        current, scale = objective(w), 1.0
        slack = 1e-12 * (1 + abs(current))  # near the optimum gains drop below rounding
        while objective(w + scale * step) < current - slack and scale > 1e-8:
            scale /= 2  # a full Newton step can overshoot far from the optimum
        w = w + scale * step
    return RatingFit(specs, z @ w[1:], float(w[0]), it, converged)


def bootstrap_ratings(games: Sequence[RatingGame], specs: Sequence[str], b: int = 200,
                      seed: int = 0, ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Percentile 95% intervals (lo, hi per spec) from refitting on b resamples of the games
    drawn with replacement by a seeded generator, so a report is reproducible."""
    rng = np.random.default_rng(seed)
    n = len(games)
    if n == 0:
        return np.zeros(len(specs)), np.zeros(len(specs))
    draws = np.empty((b, len(specs)))
    for i in range(b):
        pick = rng.integers(0, n, n)
        draws[i] = fit_ratings([games[j] for j in pick], specs, ridge).theta
    return np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)
