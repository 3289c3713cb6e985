"""PNG charts of a report (`mafia report --plots DIR`), drawn from its JSON form. matplotlib is
imported here only, with the Agg backend, so the report itself never needs a display."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mafia.errors import MafiaError
from mafia.report.render import ROLE_ORDER


def plot_folder(folder: str | Path) -> Path:
    """Create `folder` and check it is writable, before any slow work is done."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MafiaError(f"cannot write plots to {out}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise MafiaError(f"cannot write plots to {out}: permission denied")
    return out


def write_plots(r: dict[str, Any], folder: str | Path) -> list[Path]:
    """Write winrate.png, rating.png and votes_per_day.png into `folder`; their paths."""
    return save_charts(r, folder, [("winrate.png", _winrate), ("rating.png", _rating),
                                   ("votes_per_day.png", _votes_per_day)])


def save_charts(data: dict[str, Any], folder: str | Path,
                charts: list[tuple[str, Callable[[Any, dict[str, Any]], Any]]]) -> list[Path]:
    """Draw each (file name, draw(plt, data) -> figure) with the Agg backend into `folder`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = plot_folder(folder)
    paths = []
    for name, draw in charts:
        fig = draw(plt, data)
        path = out / name
        try:
            fig.savefig(path, dpi=110, bbox_inches="tight")
        except OSError as exc:
            raise MafiaError(f"cannot write plot {path}: {exc.strerror or exc}") from None
        finally:
            plt.close(fig)
        paths.append(path)
    return paths


def interval_rows(ax: Any, labels: list[str], values: list[float],
                  cis: list[tuple[float, float]]) -> None:
    """One row per label, best on top: the value as a dot, its interval as error bars."""
    ys = list(range(len(labels)))[::-1]
    err = [[max(0.0, v - lo) for v, (lo, _) in zip(values, cis)],
           [max(0.0, hi - v) for v, (_, hi) in zip(values, cis)]]
    ax.errorbar(values, ys, xerr=err, fmt="o", capsize=4)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_yticks(ys, labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)


def _errors(p: dict[str, Any]) -> tuple[float, float, float]:
    """Rate and the distances to its interval ends, for matplotlib's yerr."""
    rate = p["rate"] or 0.0
    lo, hi = p["ci"]
    return rate, max(0.0, rate - lo), max(0.0, hi - rate)


def _winrate(plt: Any, r: dict[str, Any]) -> Any:
    specs = list(r["models"])
    dealt = [role for role in ROLE_ORDER if any(role in m["roles"] for m in r["models"].values())]
    groups = ["all", *dealt]
    width = 0.8 / len(specs)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(groups)), 4.2))
    for i, spec in enumerate(specs):
        m = r["models"][spec]
        entries = [m["win"]] + [m["roles"].get(role, {}).get("win") for role in dealt]
        xs, ys, lo, hi = [], [], [], []
        for g, p in enumerate(entries):
            if p and p["n"]:
                rate, down, up = _errors(p)
                xs.append(g + (i - (len(specs) - 1) / 2) * width)
                ys.append(rate)
                lo.append(down)
                hi.append(up)
        ax.bar(xs, ys, width * 0.9, yerr=[lo, hi], capsize=3, label=spec)
    town = r["teams"]["town"]["rate"]
    if town is not None:
        ax.axhline(town, color="grey", linestyle=":", linewidth=1, label="town win rate (games)")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1)
    ax.set_ylabel("win rate (seat-games)")
    ax.set_title("Win rate by model and role (Wilson 95% intervals)")
    ax.legend(fontsize=8, loc="upper right")
    return fig


def _rating(plt: Any, r: dict[str, Any]) -> Any:
    ranking = r["rating"]["ranking"]
    fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.5 * len(ranking)))
    interval_rows(ax, ranking, [r["models"][s]["rating"]["value"] for s in ranking],
                  [r["models"][s]["rating"]["ci"] for s in ranking])
    ax.set_xlabel("rating (log-odds; ratings sum to 0)")
    note = r["rating"]["note"]
    ax.set_title(f"Rating with bootstrap 95% intervals ({r['rating']['games']} decided games)"
                 + (f"\n{note}" if note else ""), fontsize=10 if note else None)
    return fig


def _votes_per_day(plt: Any, r: dict[str, Any]) -> Any:
    per_day = r["behaviour"]["per_day"]
    days = [int(d) for d in per_day]
    rows = list(per_day.values())
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    top.plot(days, [x["top_share"] for x in rows], "o-", label="votes on the most-accused")
    top.plot(days, [x["top_mafia"] for x in rows], "s--", label="most-accused was mafia")
    top.set_ylim(0, 1.05)
    top.set_ylabel("share")
    top.set_title("Votes per day")
    twin = top.twinx()
    twin.bar(days, [x["days"] for x in rows], alpha=0.15, color="grey")
    twin.set_ylabel("games voting that day (bars)", color="grey")
    top.set_zorder(twin.get_zorder() + 1)
    top.patch.set_visible(False)
    top.legend(fontsize=8, loc="upper right")
    bottom.plot(days, [x["town_accuracy"] for x in rows], "o-", label="town votes on mafia")
    bottom.plot(days, [x["town_random"] for x in rows], "k:", label="random voting")
    bottom.set_ylim(0, 1.05)
    bottom.set_xlabel("day")
    bottom.set_ylabel("town vote accuracy")
    bottom.legend(fontsize=8, loc="upper right")
    if days:
        bottom.set_xticks(days)
    return fig
