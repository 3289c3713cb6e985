"""PNG charts of a comparison (`mafia compare ... --plots DIR`), drawn from its JSON form:
win rates per model and side, the rating, paired differences, and town votes by day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mafia.report.plots import interval_rows, save_charts

SIDES = ("town", "mafia")


def write_compare_plots(data: dict[str, Any], folder: str | Path) -> list[Path]:
    """Write the charts that have something to show into `folder`; their paths."""
    charts = [("compare_wins.png", _wins), ("compare_rating.png", _rating),
              ("compare_town_votes.png", _town_votes)]
    if data["paired"]:
        charts.append(("compare_paired.png", _paired))
    return save_charts(data, folder, charts)


def _bar(ax: Any, x: float, p: dict[str, Any] | None, width: float, **kw: Any) -> bool:
    if not p or not p.get("n"):
        return False
    rate = p["rate"] or 0.0
    lo, hi = p["ci"]
    ax.bar([x], [rate], width, yerr=[[max(0.0, rate - lo)], [max(0.0, hi - rate)]],
           capsize=3, **kw)
    return True


def _wins(plt: Any, data: dict[str, Any]) -> Any:
    specs = data["specs"]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 * len(specs)), 4.2))
    width = 0.38
    for s, side in enumerate(SIDES):
        labelled = False
        for i, spec in enumerate(specs):
            labelled |= _bar(ax, i + (s - 0.5) * width, data["models"][spec]["wins"].get(side),
                             width * 0.95, color=("tab:blue", "tab:red")[s],
                             label=None if labelled else side)
    ax.set_xticks(range(len(specs)), [_short(s) for s in specs], rotation=15, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("win rate (games)")
    ax.set_title("Win rate by model and side (Wilson 95% intervals)")
    ax.legend(fontsize=8)
    return fig


def _rating(plt: Any, data: dict[str, Any]) -> Any:
    specs = data["specs"]  # ranked, best first
    fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.5 * len(specs)))
    interval_rows(ax, [_short(s) for s in specs],
                  [data["models"][s]["rating"]["value"] for s in specs],
                  [data["models"][s]["rating"]["ci"] for s in specs])
    ax.set_xlabel("rating (log-odds; ratings sum to 0)")
    r = data["rating"]
    ax.set_title(f"Rating, bootstrap 95% intervals ({r['games']} games, {r['bootstrap']} resamples)")
    return fig


def _town_votes(plt: Any, data: dict[str, Any]) -> Any:
    specs = [s for s in data["specs"] if data["models"][s]["town_votes"]]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 * len(specs)), 4.2))
    width = 0.38
    for w, when in enumerate(("day 1", "later")):
        for i, spec in enumerate(specs):
            v = data["models"][spec]["town_votes"].get(when)
            if not v or not v["votes"]:
                continue
            x = i + (w - 0.5) * width
            ax.bar([x], [v["rate"]], width * 0.95, color=("tab:olive", "tab:green")[w],
                   label=when if i == 0 else None)
            ax.plot([x - width / 2, x + width / 2], [v["random"]] * 2, "k:", linewidth=1.2,
                    label="random voting" if i == 0 and w == 0 else None)
    ax.set_xticks(range(len(specs)), [_short(s) for s in specs], rotation=15, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("town votes on mafia")
    ax.set_title("Town votes on mafia, day 1 and later days (dotted: random voting)")
    ax.legend(fontsize=8)
    return fig


def _paired(plt: Any, data: dict[str, Any]) -> Any:
    pairs = data["paired"]
    fig, ax = plt.subplots(figsize=(7.0, 1.2 + 0.5 * len(pairs)))
    interval_rows(ax, [f"{p['a']} - {p['b']} ({p['seeds']} deals)" for p in pairs],
                  [p["difference"] for p in pairs], [p["ci"] for p in pairs])
    ax.set_xlabel("town win rate, difference (bootstrap 95% interval over deals)")
    ax.set_title("Paired: the same deals, folder against folder")
    return fig


def _short(spec: str, width: int = 28) -> str:
    return spec if len(spec) <= width else "…" + spec[-(width - 1):]
