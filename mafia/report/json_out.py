"""The report as one JSON object (`mafia report --json`)."""

from __future__ import annotations

from typing import Any

from mafia.report.behaviour import Behaviour
from mafia.report.build import Report
from mafia.report.quality import Quality


def report_json(r: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data. A *proportion* below is {"k", "n", "rate" (null when
    n = 0), "ci": [lo, hi]} with the Wilson 95% interval; a *vote tally* is {"votes", "hits",
    "rate", "random"} where "random" is the hit rate uniform random voting over the same living
    players would have. Keys:

    - "path", "transcripts" (*.jsonl files read), "games" (finished games counted),
      "skipped": [{"file", "reason"}], "warnings": [str].
    - "agents": {spec: {"kind", "seat_games"}}; "rules": the first game's config;
      "rule_sets": distinct configs among counted games.
    - "builds": [{"build": {"version", "sources", "prompts"} (null for games recorded before
      builds were), "seats": {spec: {"sha256", "adapter_sha256", "profile"} (model seats)},
      "games"}], most games first: more than one only with --mixed-builds.
    - "wins": {"town", "mafia", "draw"} and any own side that sat (e.g. "jester"): games
      won (they sum to "games").
    - "teams": the same keys: proportions of games; "mean_days".
    - "models": {spec: {"games", "seat_games", "win" (proportion of seat-games won), "survival",
      "invalid_actions", "decisions", "invalid_rate", "tokens_per_game" (generated),
      "prompt_tokens_per_game" (evaluated: less those reused from the seat's cache or copied
      from another seat's), "seconds_per_game",
      "roles": {role: the same figures}, "teams": {team: the same figures},
      "town_games" (proportion: games in which it held a town seat, won by town),
      "prompt_tokens_per_spec_game" (prompt tokens evaluated per game, summed over the spec's
      seats in it),
      "rating": {"value", "ci"}, "town_vote_accuracy" (vote tally of its town seats)}}.
    - "rating": {"beta" (mafia side's log-odds edge), "games" (decided games fitted),
      "bootstrap", "seed", "note", "ranking": [spec, best first]}.
    - "behaviour": {"town_vote_accuracy", "bus_rate" (mafia votes on fellow mafia),
      "mafia_together" (vote rounds where two or more mafia voted, counted as "days"; hits:
      all on one player; random: the chance of that under uniform votes),
      "detective_follow_through" (votes while knowing a living mafia; hits: on one),
      "detective_votes_cleared" (votes while knowing no living mafia but a living player
      found town; hits: on such a player, so lower is better): vote tallies;
      "detective_rechecks" (checks once a living player has been checked, counted as
      "checks"; hits: one of those again, lower is better); "abstains";
      "most_accused": {"days", "mafia_share", "vote_share", "distinct_targets"};
      "vote_reciprocity"; "speaking": {"seats": {name: {"messages", "share", "expected"}},
      "max_deviation"}; "dms": {"count", "per_living_player_per_day",
      "mafia-mafia", "town-town", "cross" (shares), "reciprocity"}; "per_day": {day:
      {"days", "town_accuracy", "town_random", "distinct_targets", "top_share", "top_mafia"}}}.
    - "quality": play quality; a *split tally* is a vote tally (its count named "votes",
      "days", "nights" or "accusations") plus "by_spec": {spec: tally} (and "by_team"):
      "follow_accusation" (split tally of votes, by voter; hits: on a player accused in
      public speech earlier that day), "detective_names_found" and "detective_accuses_found"
      (days on which a detective alive at its start knew a living mafia; hits: named / accused
      one in public that day; random: the same number of distinct living others drawn at
      random), "doctor_saves" (nights with a kill target; hits: protected and nobody died;
      by_spec: nights with a doctor of that spec alive), "claims": {"public", "private":
      {team: {"messages", "with_claims", "role", "accuse", "clear": {"claims", "true"}}}},
      "mafia_lies" (proportion of public claims by mafia speakers that are false, plus
      "by_spec"), "town_accusations" (split tally of public accusations by town speakers of a
      living other player; hits: on mafia), "speech": {"messages", "repeats", "repeat_rate",
      "bigram_variety", "degenerate", "degenerate_rate", "words_per_message", "public",
      "naming", "naming_rate", "text_calls", "tokens_per_text_call", "by_spec": {spec: the
      same}, "speaking_balance": {"min", "max": {"seat", "ratio"} (public-message share over
      the equal share)}}. docs/reports.md defines each figure.
    - "protocols": {protocol: {"games", "days" (day phases), "public_per_day", "dm_per_day"
      (means), "speaking": {"seats": {name: {"messages", "share", "expected"}}, "most",
      "least": {"seat", "share", "expected"} (largest and smallest share over the equal
      share)}, "reply_delay": null or, in clock games, {"n", "mean", "sd"} (seconds from the
      latest message its author could see that day to the start of typing)}}; a game's
      protocol is its rules' "discussion" ("moments" when absent).
    - "baseline": null (skipped) or {"games", "first_seed", "winners": {team: n}, "town"
      (proportion), "models": {spec: {"town_games" (proportion), "z", "p", "significant"}}}.
    """
    ratings = {s: (t, lo, hi) for s, t, lo, hi in r.ratings.ranked()}
    models = {}
    for spec, m in r.models.items():
        t, lo, hi = ratings[spec]
        models[spec] = {
            "games": m.games, **m.overall.to_json(),
            "roles": {role: x.to_json() for role, x in sorted(m.roles.items())},
            "teams": {team: x.to_json() for team, x in sorted(m.teams.items())},
            "town_games": m.town_games.to_json(),
            "prompt_tokens_per_spec_game": m.overall.prompt_tokens / m.games if m.games else 0.0,
            "rating": {"value": t, "ci": [lo, hi]},
            "town_vote_accuracy": r.behaviour.town_by_spec[spec].to_json()
            if spec in r.behaviour.town_by_spec else None,
        }
    teams = r.teams
    behaviour = behaviour_json(r.behaviour)
    return {
        "path": str(r.loaded.path), "transcripts": r.loaded.transcripts, "games": teams.games,
        "skipped": [{"file": s.file, "reason": s.reason} for s in r.loaded.skipped],
        "warnings": r.warnings,
        "agents": {s: {"kind": k, "seat_games": n} for s, (k, n) in r.agents.items()},
        "rules": r.config, "rule_sets": r.configs,
        "builds": [{**b, "games": n} for b, n in r.builds],
        "wins": {side: p.k for side, p in teams.sides().items()},
        "teams": {**{side: p.to_json() for side, p in teams.sides().items()},
                  "mean_days": teams.mean_days},
        "models": models,
        "rating": {"beta": r.ratings.beta, "games": r.ratings.games,
                   "bootstrap": r.ratings.bootstrap, "seed": r.ratings.seed,
                   "note": r.ratings.note, "ranking": list(ratings)},
        "behaviour": behaviour,
        "quality": quality_json(r.quality, behaviour["speaking"]["seats"]),
        "protocols": {name: p.to_json() for name, p in r.protocols.items()},
        "baseline": None if r.baseline is None else {
            "games": r.baseline.games, "first_seed": r.baseline.first_seed,
            "winners": dict(r.baseline.winners), "town": r.baseline.town.to_json(),
            "models": {c.spec: {"town_games": c.town.to_json(), "z": c.z, "p": c.p,
                                "significant": c.significant} for c in r.comparisons}},
    }


def behaviour_json(b: Behaviour) -> dict[str, Any]:
    total = sum(b.public.values())
    seats = {name: {"messages": b.public[name],
                    "share": b.public[name] / total if total else None,
                    "expected": b.public_expected[name] / total if total else None}
             for name in b.public_expected}
    dms = sum(b.dms.values())
    days = sum(d.days for d in b.per_day.values())
    return {
        "town_vote_accuracy": b.town.to_json(), "bus_rate": b.bus.to_json(),
        "mafia_together": b.together.to_json("days"),
        "detective_follow_through": b.detective.to_json(),
        "detective_votes_cleared": b.detective_cleared.to_json(),
        "detective_rechecks": b.rechecks.to_json("checks"), "abstains": b.abstains,
        "most_accused": {"days": days,
                         "mafia_share": _mean(sum(d.top_mafia for d in b.per_day.values()), days),
                         "vote_share": _mean(sum(d.top_share for d in b.per_day.values()), days),
                         "distinct_targets": _mean(sum(d.distinct_targets
                                                       for d in b.per_day.values()), days)},
        "vote_reciprocity": _mean(b.vote_reciprocated, b.vote_edges),
        "speaking": {"seats": seats, "max_deviation": max_deviation(seats)},
        "dms": {"count": dms, "per_living_player_per_day": _mean(dms, b.living_player_days),
                **{k: _mean(b.dms[k], dms) for k in ("mafia-mafia", "town-town", "cross")},
                "reciprocity": _mean(b.dm_reciprocated, b.dm_edges)},
        "per_day": {str(day): {"days": d.days, "town_accuracy": d.town.rate,
                               "town_random": d.town.random,
                               "distinct_targets": _mean(d.distinct_targets, d.days),
                               "top_share": _mean(d.top_share, d.days),
                               "top_mafia": _mean(d.top_mafia, d.days)}
                    for day, d in sorted(b.per_day.items())},
    }


def quality_json(q: Quality, seats: dict[str, dict[str, Any]]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for where in ("public", "private"):
        for team in ("town", "mafia"):
            key = f"{where}/{team}"
            claims.setdefault(where, {})[team] = {
                "messages": q.messages[key], "with_claims": q.with_claims[key],
                **{kind: {"claims": q.claims[f"{key}/{kind}"], "true": q.true[f"{key}/{kind}"]}
                   for kind in ("role", "accuse", "clear")}}
    return {
        "follow_accusation": q.follow.to_json("votes", teams=True),
        "detective_names_found": q.names_known.to_json("days"),
        "detective_accuses_found": q.accuses_known.to_json("days"),
        "doctor_saves": q.saves.to_json("nights"),
        "claims": claims, "mafia_lies": q.mafia_lies.to_json(),
        "town_accusations": q.town_accusations.to_json("accusations"),
        "speech": {**q.speech.to_json(),
                   "by_spec": {s: t.to_json() for s, t in q.speech_by_spec.items()},
                   "speaking_balance": speaking_balance(seats)},
    }


def speaking_balance(seats: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The seats speaking least and most in public, as their share over the equal share."""
    ratios = sorted((s["share"] / s["expected"], name) for name, s in seats.items()
                    if s["share"] is not None and s["expected"])
    if not ratios:
        return {"min": None, "max": None}
    (lo, lo_name), (hi, hi_name) = ratios[0], ratios[-1]
    return {"min": {"seat": lo_name, "ratio": lo}, "max": {"seat": hi_name, "ratio": hi}}


def max_deviation(seats: dict[str, dict[str, Any]]) -> float | None:
    gaps = [abs(s["share"] - s["expected"]) for s in seats.values() if s["share"] is not None]
    return max(gaps) if gaps else None


def _mean(total: float, n: float) -> float | None:
    return total / n if n else None

