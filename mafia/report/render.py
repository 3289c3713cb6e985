"""Rich tables of a report. They read the JSON form (json_out.report_json), so what a person
reads and what `--json` prints can never disagree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from mafia.config import Rules
from mafia.enums import Role

ROLE_ORDER = ("mafia", "detective", "doctor", "villager") + tuple(
    r.value for r in Role if r.value not in ("mafia", "detective", "doctor", "villager"))


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def rate_ci(p: dict[str, Any]) -> tuple[str, str]:
    lo, hi = p["ci"]
    return pct(p["rate"]), ("-" if p["n"] == 0 else f"{100 * lo:.1f}-{100 * hi:.1f}")


def num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _table(title: str, *columns: str, left: int = 1) -> Table:
    """The first `left` columns hold names (left-aligned, folded if long); numbers follow."""
    # No vertical rules and collapsed padding: the widest table (models by role) fits 80 columns.
    t = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
              collapse_padding=True)
    for i, c in enumerate(columns):
        if i < left:
            t.add_column(c, overflow="fold", min_width=len(c))  # specs may be long paths
        else:
            t.add_column(c, justify="right", no_wrap=True)
    return t


def rules_line(config: dict[str, Any]) -> str:
    """Players and roles, then only the rules that differ from their defaults."""
    counts = config.get("roles", {})
    roles = ", ".join(f"{r} {counts[r]}" for r in ROLE_ORDER if counts.get(r))
    try:
        defaults = Rules.model_validate({"players": config.get("players", 7)}).model_dump(
            mode="json")
    except ValueError:
        defaults = {}
    changed = [f"{k}={v}" for k, v in config.items()
               if k not in ("players", "roles") and defaults.get(k) != v]
    return (f"{config.get('players')} players ({roles}); "
            + (", ".join(changed) if changed else "other rules default"))


def header(r: dict[str, Any]) -> Iterator[RenderableType]:
    yield Text(f"mafia report: {r['path']}", style="bold")
    yield Text(f"{r['transcripts']} transcripts, {r['games']} games counted, "
               f"{len(r['skipped'])} skipped")
    yield Text("agents: " + ", ".join(f"{s} ({a['kind']}, {a['seat_games']} seat-games)"
                                      for s, a in r["agents"].items()))
    yield Text("rules: " + rules_line(r["rules"]))
    for b in r.get("builds", []):
        yield Text(f"build: {build_line(b)}")
    for w in r["warnings"]:
        yield Text.assemble(("warning: ", "yellow"), w)


def build_line(b: dict[str, Any]) -> str:
    """One build of a report: version and hashes, each model's files and profile."""
    build = b.get("build")
    code = ("not recorded" if build is None else
            f"{build['version']}, sources {build['sources']}, prompts {build['prompts']}")
    models = [f"{spec} {seat['sha256'][:12]}"
              + (f"+{seat['adapter_sha256'][:12]}" if seat.get("adapter_sha256") else "")
              + (f" {seat['profile']}" if seat.get("profile") else "")
              for spec, seat in b.get("seats", {}).items() if seat.get("sha256")]
    return f"{code}{'; ' if models else ''}{'; '.join(models)} ({b['games']} games)"


def teams_table(r: dict[str, Any]) -> Table:
    t = _table("Teams (per game)", "outcome", "games", "rate", "95% CI")
    for team in [k for k in r["teams"] if k != "mean_days"]:
        p = r["teams"][team]
        t.add_row(team, f"{p['k']}/{p['n']}", *rate_ci(p))
    t.caption = f"mean days per game: {r['teams']['mean_days']:.2f}"
    return t


def models_table(r: dict[str, Any]) -> Table:
    t = _table("Models by role", "model", "role", "n", "win", "95% CI", "alive", "invalid",
               "tok/g", "s/g", left=2)
    for spec, m in r["models"].items():
        rows = [("all", m)] + [(role, m["roles"][role]) for role in ROLE_ORDER
                               if role in m["roles"]]
        for i, (role, x) in enumerate(rows):
            t.add_row(spec if i == 0 else "", role, str(x["seat_games"]), *rate_ci(x["win"]),
                      pct(x["survival"]), pct(x["invalid_rate"]),
                      f"{x['tokens_per_game']:.0f}", f"{x['seconds_per_game']:.1f}",
                      end_section=i == len(rows) - 1)
    per_game = ", ".join(f"{spec} {m['prompt_tokens_per_spec_game']:,.0f}"
                         for spec, m in r["models"].items() if m["prompt_tokens_per_spec_game"])
    t.caption = ("n: seat-games; win: the seat's team won; alive: survived the game; invalid: "
                 "invalid actions per decision; tok/g, s/g: tokens generated and model "
                 "seconds per seat-game"
                 + (f"; prompt tokens evaluated per game (all its seats, less those reused "
                    f"from a cache): {per_game}" if per_game else ""))
    return t


def rating_table(r: dict[str, Any]) -> Table:
    info = r["rating"]
    t = _table("Rating (team logistic model; higher wins more)", "#", "model", "rating",
               "95% CI", "town votes", "on mafia", "random", left=2)
    for i, spec in enumerate(info["ranking"], start=1):
        m = r["models"][spec]
        lo, hi = m["rating"]["ci"]
        acc = m["town_vote_accuracy"] or {"votes": 0, "rate": None, "random": None}
        ci = "-" if info["note"] else f"[{lo:+.2f}, {hi:+.2f}]"
        t.add_row(str(i), spec, f"{m['rating']['value']:+.2f}", ci,
                  str(acc["votes"]), pct(acc["rate"]), pct(acc["random"]))
    t.caption = (f"{info['games']} decided games, mafia-side edge beta {info['beta']:+.2f}, "
                 f"bootstrap {info['bootstrap']} (seed {info['seed']})"
                 + (f"; {info['note']}" if info["note"] else ""))
    return t


def behaviour_table(r: dict[str, Any]) -> Table:
    b = r["behaviour"]
    t = _table("Behaviour", "metric", "value", "random play")
    for label, key in (("town votes on a mafia player", "town_vote_accuracy"),
                       ("mafia votes on fellow mafia (bus)", "bus_rate"),
                       ("detective votes on a mafia they found", "detective_follow_through"),
                       ("detective votes on a player they cleared", "detective_votes_cleared")):
        v = b[key]
        t.add_row(label, f"{pct(v['rate'])} of {v['votes']}", pct(v["random"]))
    v = b["mafia_together"]
    t.add_row("mafia all vote one player", f"{pct(v['rate'])} of {v['days']} days",
              pct(v["random"]))
    v = b["detective_rechecks"]
    t.add_row("detective re-checks a checked player",
              f"{pct(v['rate'])} of {v['checks']}", pct(v["random"]))
    ma = b["most_accused"]
    t.add_row("most-accused player was mafia", f"{pct(ma['mafia_share'])} of {ma['days']} days",
              "")
    t.add_row("share of a day's votes on its most-accused", pct(ma["vote_share"]), "")
    t.add_row("distinct vote targets per day", num(ma["distinct_targets"]), "")
    t.add_row("vote graph reciprocity", num(b["vote_reciprocity"]), "", end_section=True)
    dms = b["dms"]
    t.add_row("DMs per living player per day", num(dms["per_living_player_per_day"]),
              f"{dms['count']} DMs")
    t.add_row("DMs mafia-mafia / town-town / cross",
              " / ".join(pct(dms[k]) for k in ("mafia-mafia", "town-town", "cross")), "")
    t.add_row("DM graph reciprocity", num(dms["reciprocity"]), "", end_section=True)
    sp = b["speaking"]
    t.add_row("public messages: largest gap to an equal share", pct(sp["max_deviation"]), "")
    t.caption = "public messages by seat (equal share): " + ", ".join(
        f"{n} {pct(s['share'])} ({pct(s['expected'])})" for n, s in sp["seats"].items())
    return t


def _of(t: dict[str, Any], unit: str) -> str:
    return f"{pct(t['rate'])} of {t[unit]}"


def _tally_rows(t: Table, label: str, x: dict[str, Any], unit: str, specs: bool,
                end: bool = False) -> None:
    """A tally's row, then one per spec when there are several (and per team when given)."""
    teams = x.get("by_team", {})
    subs = [(f"  {team} voters", teams[team]) for team in ("town", "mafia") if team in teams]
    if specs and len(x["by_spec"]) > 1:
        subs += [(f"  model {spec}", v) for spec, v in x["by_spec"].items()]
    t.add_row(label, f"{_of(x, unit)} {unit}", pct(x["random"]), end_section=end and not subs)
    for i, (sub, v) in enumerate(subs):
        t.add_row(sub, _of(v, unit), pct(v["random"]), style="dim",
                  end_section=end and i == len(subs) - 1)


def quality_table(r: dict[str, Any]) -> Table:
    q = r["quality"]
    t = _table("Play quality", "metric", "value", "random play")
    _tally_rows(t, "votes on a player accused that day", q["follow_accusation"], "votes",
                True, end=True)
    _tally_rows(t, "detective names a found living mafia", q["detective_names_found"], "days",
                True)
    _tally_rows(t, "detective accuses a found living mafia", q["detective_accuses_found"],
                "days", True)
    _tally_rows(t, "night kills prevented by the doctor", q["doctor_saves"], "nights", True,
                end=True)
    _tally_rows(t, "town public accusations that are right", q["town_accusations"], "accusations",
                True)
    lies = q["mafia_lies"]
    t.add_row("mafia public claims that are false", f"{pct(lies['rate'])} of {lies['n']} claims", "")
    if len(lies["by_spec"]) > 1:
        for spec, p in lies["by_spec"].items():
            t.add_row(f"  model {spec}", f"{pct(p['rate'])} of {p['n']}", "", style="dim")
    for where in ("public", "private"):
        claims = q["claims"][where]
        for team in ("town", "mafia"):
            c = claims[team]
            n = [c[k]["claims"] for k in ("role", "accuse", "clear")]
            true = sum(c[k]["true"] for k in ("role", "accuse", "clear"))
            t.add_row(f"{where} claims, {team}: role/acc/clear",
                      f"{n[0]}/{n[1]}/{n[2]}, {pct(true / sum(n) if sum(n) else None)} true", "")
        t.add_row(f"{where} msgs with a claim: town / mafia", " / ".join(
            pct(claims[team]["with_claims"] / claims[team]["messages"]
                if claims[team]["messages"] else None) for team in ("town", "mafia")), "")
    t.caption = ("public: public messages and last words; private: DMs and the mafia channel. "
                 "Claims are read by mafia.claims (docs/experiments/play-quality.md); random play: what "
                 "uniform random choices over the same living players would give")
    return t


def speech_table(r: dict[str, Any]) -> Table:
    sp = r["quality"]["speech"]
    t = _table("Speech by model", "model", "msgs", "repeat", "bigram", "names", "short",
               "words", "tok/call")
    rows = ([("all", sp)] if len(sp["by_spec"]) > 1 else []) + list(sp["by_spec"].items())
    for i, (spec, x) in enumerate(rows):
        t.add_row(spec, str(x["messages"]), pct(x["repeat_rate"]), num(x["bigram_variety"]),
                  pct(x["naming_rate"]), pct(x["degenerate_rate"]),
                  num(x["words_per_message"], 1), num(x["tokens_per_text_call"], 1),
                  end_section=i == 0 and len(rows) > 1)
    bal = sp["speaking_balance"]
    spread = "-" if bal["min"] is None else (
        f"{bal['min']['seat']} {bal['min']['ratio']:.2f}x, "
        f"{bal['max']['seat']} {bal['max']['ratio']:.2f}x")
    t.caption = ("msgs: messages and last words; repeat: same text as an earlier message of the "
                 "game; bigram: distinct/all word bigrams per message; names: public messages "
                 "naming another living player; short: degenerate lines; words: per message; "
                 "tok/call: tokens per text model call. Public-message share over the equal "
                 f"share, least and most: {spread}")
    return t


def truth_table(r: dict[str, Any]) -> Table:
    """One row per figure, one column per spec: narrow enough for an 80-column terminal."""
    sp = r["quality"]["speech"]
    cols = ([("all", sp)] if len(sp["by_spec"]) > 1 else []) + list(sp["by_spec"].items())
    t = _table("Speech against the facts", "metric", *[spec for spec, _ in cols])
    rows = [
        ("messages", lambda x: str(x["messages"])),
        ("naming someone not at the table", lambda x: pct(x["absent_rate"])),
        ("calling a living player dead", lambda x: pct(x["called_dead_rate"])),
        ("detective reports of a check", lambda x: str(x["detective_reports"])),
        ("  contradicting the check", lambda x: pct(x["detective_contradicted_rate"])),
        ("mafia-chat kill proposals", lambda x: str(x["kill_proposals"])),
        ("  of a dead player", lambda x: str(x["dead_kill_proposals"])),
        ("pooled bigram variety", lambda x: num(x["pooled_bigram_variety"])),
    ]
    for label, cell in rows:
        t.add_row(label, *[cell(x) for _, x in cols])
    t.caption = ("pooled bigram variety: distinct/all word bigrams over the first 1,000 "
                 "messages (definitions: mafia.report.truth and docs/reports.md)")
    return t


def _seat_share(x: dict[str, Any] | None) -> str:
    return "-" if x is None else (
        f"{x['seat']} {100 * x['share']:.0f}%/{100 * x['expected']:.0f}%")


def protocols_table(r: dict[str, Any]) -> Table | None:
    """Talk per discussion protocol; only when some game is not `moments`, so reports of
    folders played before protocols existed read as they did (--json always has it)."""
    protos = r["protocols"]
    if set(protos) <= {"moments"}:
        return None
    t = _table("Discussion protocols", "protocol", "games", "pub/day", "DM/day", "most",
               "least")
    delays = []
    for name, p in protos.items():
        sp = p["speaking"]
        t.add_row(name, str(p["games"]), num(p["public_per_day"], 1), num(p["dm_per_day"], 1),
                  _seat_share(sp["most"]), _seat_share(sp["least"]))
        d = p["reply_delay"]
        if d is not None:
            delays.append(f"{name} {d['mean']:.1f} s (sd {num(d['sd'], 1)} s, "
                          f"{d['n']} messages)")
    t.caption = ("pub/day, DM/day: public messages and DMs per day; most, least: the seats "
                 "with the largest and smallest share of public messages / their equal share"
                 + ("; reply delay (typing start minus the last message its author could "
                    "see that day; mean): " + ", ".join(delays) if delays else ""))
    return t


def baseline_table(r: dict[str, Any]) -> Table | Text:
    base = r["baseline"]
    if base is None:
        return Text("baseline: skipped (--baseline-games 0)")
    rate, ci = rate_ci(base["town"])
    t = _table("Town win rate vs random play", "model", "town games", "town won", "95% CI",
               "z", "p")
    t.add_row("random play", str(base["games"]), rate, ci, "", "", style="dim",
              end_section=True)
    for spec, c in base["models"].items():
        p = c["town_games"]
        mark = " *" if c["significant"] else ""
        t.add_row(spec, str(p["n"]), *rate_ci(p), num(c["z"]),
                  _p(c["p"]) + mark,
                  style="bold" if c["significant"] else None)
    t.caption = ("town games: games in which the model held a town seat; z, p: two-sided "
                 "two-proportion z-test against random play; * p < 0.05")
    return t


def _p(p: float | None) -> str:
    return "-" if p is None else "<0.001" if p < 0.001 else f"{p:.3f}"


def render(r: dict[str, Any]) -> Iterator[RenderableType]:
    yield from header(r)
    parts = (teams_table(r), models_table(r), rating_table(r), behaviour_table(r),
             quality_table(r), speech_table(r), truth_table(r), protocols_table(r), baseline_table(r))
    for part in parts:
        if part is None:
            continue
        yield Text("")
        note = part.caption if isinstance(part, Table) else None
        if isinstance(part, Table):
            part.caption = None  # printed below as text: a long caption would widen the table
        yield part
        if note:
            yield Text(str(note), style="dim")
