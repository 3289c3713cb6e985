"""`mafia compare` as rich tables, from compare()'s JSON-ready data: legality first, then
wins per side, the rating, votes by day (town; mafia and detective), and the paired
differences."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from mafia.report.compare import legal_first
from mafia.report.render import _table, num, pct, rate_ci


def render_compare(d: dict[str, Any]) -> Iterator[RenderableType]:
    yield Text(f"mafia compare: {len(d['folders'])} folders, {d['games']} games", style="bold")
    folders = _table("Folders", "folder", "players", "games", "town wins", "95% CI", left=2)
    for f in d["folders"]:
        folders.add_row(f["name"], f["players"], str(f["games"]), *rate_ci(f["town"]))
    for table in (folders, legality(d), wins(d), rating(d), votes(d), *other_votes(d),
                  pairs(d)):
        if table is None:
            continue
        yield Text("")
        note = table.caption
        table.caption = None
        yield table
        if note:
            yield Text(str(note), style="dim")


def legality(d: dict[str, Any]) -> Table:
    t = _table("Legality (invalid actions)", "model", "invalid", "decisions", "rate", "95% CI")
    for spec in legal_first(d):
        m = d["models"][spec]
        t.add_row(spec, str(m["invalid_actions"]), str(m["decisions"]), *rate_ci(m["invalid_rate"]))
    t.caption = "an invalid action is replaced by a legal fallback; it is the model's failure"
    return t


def wins(d: dict[str, Any]) -> Table:
    t = _table("Wins per side (games)", "model", "side", "won", "rate", "95% CI", left=2)
    for spec in d["specs"]:
        sides = d["models"][spec]["wins"]
        order = [s for s in ("town", "mafia") if s in sides] + sorted(
            s for s in sides if s not in ("town", "mafia"))  # own sides (the jester) last
        for i, side in enumerate(order):
            p = sides[side]
            t.add_row(spec if i == 0 else "", side, f"{p['k']}/{p['n']}", *rate_ci(p),
                      end_section=i == len(sides) - 1)
    t.caption = ("of the games in which the model held a seat on that side, those that side "
                 "won")
    return t


def rating(d: dict[str, Any]) -> Table:
    r = d["rating"]
    t = _table("Rating", "model", "rating", "95% CI")
    for spec in d["specs"]:
        x = d["models"][spec]["rating"]
        t.add_row(spec, num(x["value"]), f"{num(x['ci'][0])} to {num(x['ci'][1])}")
    t.caption = (r["note"] or f"team-strength logit fit over {r['games']} decided games, mafia "
                 f"side edge {num(r['beta'])}; intervals from {r['bootstrap']} bootstrap "
                 "resamples of games")
    return t


def votes(d: dict[str, Any]) -> Table | None:
    t = _table("Town votes on mafia", "model", "day", "votes", "on mafia", "random", "lift",
               left=2)
    rows = 0
    for spec in d["specs"]:
        days = d["models"][spec]["town_votes"]
        for i, (when, v) in enumerate(days.items()):
            lift = None if v["rate"] is None else v["rate"] - v["random"]
            t.add_row(spec if i == 0 else "", when, str(v["votes"]), pct(v["rate"]),
                      pct(v["random"]), "-" if lift is None else f"{100 * lift:+.1f}",
                      end_section=i == len(days) - 1)
            rows += 1
    t.caption = ("random: what uniform random votes over the same living players would hit; "
                 "lift in points. Day 1 rests on almost nothing, later days on deaths and votes")
    return t if rows else None


def by_day(d: dict[str, Any], key: str, title: str, hit: str, note: str) -> Table | None:
    """One vote figure per model, day 1 apart from later days."""
    t = _table(title, "model", "day", "votes", hit, "random", left=2)
    rows = 0
    for spec in d["specs"]:
        days = d["models"][spec][key]
        for i, (when, v) in enumerate(days.items()):
            t.add_row(spec if i == 0 else "", when, str(v["votes"]), pct(v["rate"]),
                      pct(v["random"]), end_section=i == len(days) - 1)
            rows += 1
    t.caption = note
    return t if rows else None


def other_votes(d: dict[str, Any]) -> Iterator[Table | None]:
    yield by_day(d, "mafia_votes_on_teammate", "Mafia votes on a teammate", "on a teammate",
                 "lower is better (bussing); random: what uniform votes would hit")
    yield by_day(d, "detective_votes_on_found_mafia", "Detective votes on a mafia it found",
                 "on found mafia", "a detective who knows a living mafia; random: what "
                 "uniform votes would hit")


def pairs(d: dict[str, Any]) -> Table | None:
    if not d["paired"]:
        return None
    t = _table("Paired: the same deals (seeds and rules)", "a", "b", "seeds", "town a",
               "town b", "a - b", "95% CI", left=2)
    for p in d["paired"]:
        lo, hi = p["ci"]
        t.add_row(p["a"], p["b"], str(p["seeds"]), pct(p["a_town"]), pct(p["b_town"]),
                  f"{100 * p['difference']:+.1f}", f"{100 * lo:+.1f} to {100 * hi:+.1f}")
    t.caption = (f"town win rate of a minus b over the seeds both played; interval from "
                 f"{d['paired'][0]['bootstrap']} bootstrap resamples of those seeds")
    return t
