"""mafia.stats: Wilson intervals, the two-proportion z-test and the team rating model, checked
against values computed by hand and against the maximum-likelihood conditions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mafia.stats import (
    Proportion, RatingGame, bootstrap_ratings, design, fit_ratings, penalized_loglik,
    two_proportion_z, wilson,
)

# Wilson: with p = k/n, z = 1.959964 (z^2 = 3.841459), d = 1 + z^2/n,
#   centre = (p + z^2/(2n)) / d,  half = (z/d) * sqrt(p(1-p)/n + z^2/(4n^2)).
# 0/10:   d = 1.3841459; centre = 0.1920729/1.3841459 = 0.138766;
#         half = 1.4160097 * sqrt(0.0096036) = 0.138766          -> (0, 0.277533)
# 5/10:   centre = (0.5 + 0.1920729)/1.3841459 = 0.5;
#         half = 1.4160097 * sqrt(0.025 + 0.0096036) = 0.263407  -> (0.236593, 0.763407)
# 10/10:  mirror of 0/10                                          -> (0.722467, 1)
# 81/263: p = 0.3079848, d = 1.0146063; centre = 0.3152880/1.0146063 = 0.310749;
#         half = 1.9317476 * sqrt(0.00081039 + 0.00001388) = 0.055460 -> (0.255289, 0.366210)
HAND_WILSON = [
    (0, 10, 0.0, 0.277533),
    (5, 10, 0.236593, 0.763407),
    (10, 10, 0.722467, 1.0),
    (81, 263, 0.255289, 0.366210),
]


@pytest.mark.parametrize("k, n, lo, hi", HAND_WILSON)
def test_wilson_matches_hand_computed_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=2e-6)


def test_wilson_without_data_is_the_whole_range() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    p = Proportion(0, 0)
    assert p.rate is None and p.to_json() == {"k": 0, "n": 0, "rate": None, "ci": [0.0, 1.0]}


def test_two_proportion_z_matches_hand_computed_case() -> None:
    # 30/100 vs 20/100: pooled p = 50/200 = 0.25; se = sqrt(0.25 * 0.75 * (1/100 + 1/100))
    # = sqrt(0.00375) = 0.0612372; z = 0.10 / 0.0612372 = 1.632993;
    # p = erfc(1.632993 / sqrt 2) = 0.102470.
    z, p = two_proportion_z(30, 100, 20, 100)  # type: ignore[misc]
    assert z == pytest.approx(1.632993, abs=1e-6)
    assert p == pytest.approx(0.102470, abs=1e-6)
    z2, p2 = two_proportion_z(20, 100, 30, 100)  # type: ignore[misc]
    assert (z2, p2) == pytest.approx((-z, p))
    assert two_proportion_z(0, 50, 0, 80) == (0.0, 1.0)  # no variation: no difference
    assert two_proportion_z(1, 0, 3, 10) is None


def _games(configs: list[tuple[tuple[str, ...], tuple[str, ...], int, int]]) -> list[RatingGame]:
    """(mafia specs, town specs, mafia wins, town wins) -> that many games."""
    out = []
    for mafia, town, mw, tw in configs:
        out += [RatingGame(mafia, town, True)] * mw + [RatingGame(mafia, town, False)] * tw
    return out


def test_a_spec_that_always_wins_gets_a_large_rating_gap() -> None:
    games = _games([(("A", "A"), ("B",) * 5, 20, 0), (("B", "B"), ("A",) * 5, 0, 20),
                    (("A", "B"), ("A", "B", "B", "B", "B"), 10, 0)])
    fit = fit_ratings(games)
    assert fit.converged
    assert fit.rating("A") - fit.rating("B") > 5  # separation: only the ridge keeps it finite
    assert fit.theta.sum() == pytest.approx(0.0, abs=1e-9)


def test_symmetric_data_gives_equal_ratings_and_beta_recovers_the_team_bias() -> None:
    # Whoever plays mafia wins 7 of 10: logit(0.7) = log(7/3) = 0.847298.
    games = _games([(("A", "A"), ("B",) * 5, 7, 3), (("B", "B"), ("A",) * 5, 7, 3)])
    fit = fit_ratings(games)
    assert fit.theta == pytest.approx([0.0, 0.0], abs=1e-9)
    assert fit.beta == pytest.approx(math.log(7 / 3), abs=1e-3)  # the ridge shrinks it a hair


def test_the_fit_is_the_penalized_maximum_likelihood() -> None:
    rng = np.random.default_rng(5)
    specs = ("A", "B", "C")
    games = [RatingGame(tuple(rng.choice(specs, 2)), tuple(rng.choice(specs, 4)),
                        bool(rng.random() < 0.6)) for _ in range(300)]
    ridge = 1e-3
    fit = fit_ratings(games, specs, ridge)
    x, y = design(games, specs)
    p = 1 / (1 + np.exp(-(fit.beta + x @ fit.theta)))
    grad_theta = x.T @ (y - p) - ridge * fit.theta
    # Zero gradient within the constraint sum(theta) = 0 (a common shift is not a direction).
    assert grad_theta - grad_theta.mean() == pytest.approx(np.zeros(3), abs=1e-7)
    assert np.sum(y - p) - ridge * fit.beta == pytest.approx(0.0, abs=1e-7)
    best = penalized_loglik(x, y, fit.beta, fit.theta, ridge)
    for _ in range(50):
        step = rng.normal(size=3) * 0.05
        step -= step.mean()
        assert penalized_loglik(x, y, fit.beta + rng.normal() * 0.05, fit.theta + step,
                                ridge) <= best


def test_the_fit_recovers_known_parameters_from_simulated_games() -> None:
    rng = np.random.default_rng(11)
    specs = ("A", "B", "C")
    truth, beta = np.array([0.6, 0.0, -0.6]), 0.4
    seats = rng.integers(0, 3, (20000, 7))  # 2 mafia seats, 5 town seats per game
    # The model written out directly (not through `design`, which the fit uses).
    eta = beta + truth[seats[:, :2]].mean(axis=1) - truth[seats[:, 2:]].mean(axis=1)
    won = rng.random(len(seats)) < 1 / (1 + np.exp(-eta))
    games = [RatingGame(tuple(specs[i] for i in row[:2]), tuple(specs[i] for i in row[2:]),
                        bool(w)) for row, w in zip(seats, won)]
    fit = fit_ratings(games, specs)
    assert fit.theta == pytest.approx(truth, abs=0.12)
    assert fit.beta == pytest.approx(beta, abs=0.08)


def test_one_spec_has_rating_zero() -> None:
    fit = fit_ratings(_games([(("A",), ("A",) * 3, 6, 4)]))
    assert fit.specs == ("A",) and fit.theta.tolist() == [0.0]
    assert fit.beta == pytest.approx(math.log(6 / 4), abs=1e-3)


def test_bootstrap_interval_contains_the_estimate_and_is_deterministic() -> None:
    games = _games([(("A", "A"), ("B",) * 5, 12, 8), (("B", "B"), ("A",) * 5, 16, 4),
                    (("A", "B"), ("A", "B", "A", "B", "B"), 9, 6)])
    specs = ("A", "B")
    fit = fit_ratings(games, specs)
    lo, hi = bootstrap_ratings(games, specs, b=100, seed=3)
    assert np.all(lo <= fit.theta) and np.all(fit.theta <= hi)
    assert np.all(hi - lo > 0.1)
    again = bootstrap_ratings(games, specs, b=100, seed=3)
    assert again[0].tolist() == lo.tolist() and again[1].tolist() == hi.tolist()
    other = bootstrap_ratings(games, specs, b=100, seed=4)
    assert other[0].tolist() != lo.tolist()
