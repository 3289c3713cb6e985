"""Mafia play: agree on the kill in the mafia channel, talk like town (or fake a detective
claim), counter-claim a real detective, and vote with the town against a town player.

Choices the team must share (the kill) are computed from what every living mafia member
sees alike (public facts, the mafia channel) with a generator drawn from the public seed and
the day, so teammates agree even without chat; the first "Kill X." proposal of the night wins.
The night's first speaker also names whom the team votes by day where the public evidence
ties ("Tomorrow we vote Y."): a tie-break any reader of the channel can see, where the focal
order behind it is drawn from a seed a model never reads (a model taught these games learns to
vote with its teammate, not to guess a shuffle).
"""

from __future__ import annotations

import random

from mafia.decisions import SAY, WAIT, DayAction, Option

from mafia.agents.heuristic.beliefs import results
from mafia.agents.heuristic.reasons import reason_for
from mafia.agents.heuristic.speech import Line, dm_text, line
from mafia.agents.heuristic.town import NAME_A_VOTE
from mafia.agents.heuristic.turn import Turn

FAKE_CLAIM = 0.3  # chance per game that the lead mafia fakes a detective claim on day one
FAKE_CLAIM_GODFATHER = 0.6  # ... when the lead is a godfather (a real check shows it town)
COUNTER_CLAIM = 1.0  # chance of counter-claiming a detective who named a mafia member
KILL_CLAIMANT = 0.5  # chance of going for a claimed detective while a doctor may protect them
BUS_MARGIN = 6.0  # a teammate this far ahead of everyone in the town's eyes is voted out
LIE_DM = 0.4  # chance per day of planting suspicion of a town player with another one


def living_team(t: Turn) -> list[str]:
    return [p for p in t.alive if p in t.team]


def kill_choice(t: Turn, options: list[str]) -> str:
    """A claimed detective, then a claimed doctor, then the loudest accuser of the mafia,
    else anyone but the town's favourite suspect (the town may vote them out itself)."""
    table, neutral, order = t.table, t.neutral, t.order
    if (table.rule("doctor_repeat_save") is False and table.last_kill_failed
            and table.last_kill in options):
        return str(table.last_kill)  # saved last night, so the doctor cannot save them again
    rng = random.Random(f"heuristic-mafia-kill:{table.seed}:{t.day}")  # shared by the team
    skip = table.last_kill if table.last_kill_failed else None  # probably protected again
    claimants = sorted((c for c in table.detective_claims
                        if c in options and c != skip and neutral.trust.get(c, 0.0) > 0.0),
                       key=lambda c: (-neutral.trust[c], order.get(c, 0)))
    shown = list(table.revealed_role.values())
    no_doctor = shown.count("doctor") >= table.count("doctor")
    if claimants and (no_doctor or rng.random() < KILL_CLAIMANT):
        return claimants[0]
    doctors = [p for p in options if table.role_claims.get(p) == "doctor" and p != skip]
    if doctors:
        return min(doctors, key=lambda p: order.get(p, 0))
    loud: dict[str, float] = {}
    for s in table.said:
        c = s.claim
        if c.kind == "accuse" and c.subject in t.team and c.speaker in options:
            loud[c.speaker] = loud.get(c.speaker, 0.0) + (1.0 if s.day >= t.day - 1 else 0.5)
    loud.pop(skip or "", None)
    if loud:
        return max(sorted(loud, key=lambda p: order.get(p, 0)), key=lambda p: loud[p])
    pool = [p for p in options if p != skip] or options
    favourite = neutral.ranked(pool, order)[0]
    if neutral.scores.get(favourite, 0.0) >= 2.0 and len(pool) > 1:
        pool = [p for p in pool if p != favourite]
    return rng.choice(sorted(pool))


def kill(t: Turn) -> str:
    proposal = t.table.proposals.get(t.day)
    if proposal in t.targets:
        return str(proposal)
    return kill_choice(t, t.targets)


def chat(t: Turn) -> str:
    proposal = t.table.proposals.get(t.day)
    if proposal is not None and proposal in t.alive and proposal not in t.team:
        return t.phrase([line("agree", proposal), *plan_line(t, proposal)])
    options = [p for p in t.alive if p not in t.team]
    if not options:
        return ""
    target = kill_choice(t, options)
    return t.phrase([line("kill", target), *plan_line(t, target)])


def plan_line(t: Turn, target: str) -> list[Line]:
    """Tomorrow's vote where the evidence ties: the teammate's plan if one was made tonight,
    else the town player the town likeliest votes (ties by the day's focal order) other than
    tonight's target."""
    plan = t.table.plans.get(t.day)
    if plan is None:
        town = [p for p in t.alive if p not in t.team and p != target]
        if not town:
            return []
        plan = t.neutral.ranked(town, t.order)[0]
    return [line("plan", plan)]


def town_pick(t: Turn, candidates: list[str]) -> str | None:
    """The town player to vote against (or to cast doubt on): the likeliest by public facts,
    and the night's plan where it ties for the lead."""
    ranked = [p for p in t.neutral.ranked(candidates, t.order) if p not in t.team]
    if not ranked:
        return None
    plan, scores = t.table.plans.get(t.day), t.neutral.scores
    if plan in ranked and scores.get(plan, 0.0) == scores.get(ranked[0], 0.0):
        return str(plan)
    return ranked[0]


def town_target(t: Turn) -> str:
    """Whom the town is about to vote out, as far as public facts tell."""
    return t.neutral.ranked(t.alive, t.order)[0]


def surely_out(t: Turn, mate: str) -> bool:
    ranked = t.neutral.ranked(t.alive, t.order)
    scores = t.neutral.scores
    if ranked[0] != mate:
        return False
    second = scores.get(ranked[1], 0.0) if len(ranked) > 1 else 0.0
    return scores[mate] >= 5.0 and scores[mate] >= second + BUS_MARGIN


def vote(t: Turn) -> str:
    ranked = [p for p in t.neutral.ranked(t.targets, t.order) if p not in t.team]
    target = town_target(t)
    if target in t.team and target != t.me and target in t.targets and surely_out(t, target):
        return target  # the town votes them out anyway: voting with it costs nothing
    if t.table.rule("vote_reveal") == "sequential":
        wagon = t.band_wagon(ranked)
        if wagon is not None:
            return wagon
    return town_pick(t, t.targets) or t.targets[0]


def day_action(t: Turn) -> tuple[Option, str]:
    text = speech(t)
    if text and SAY in t.request.options:
        return SAY, text
    return planted_lie(t) or (WAIT, "")


def planted_lie(t: Turn) -> tuple[Option, str] | None:
    """Once a day, at a moment it has nothing to say in public: tell one town player in
    private that it doubts another (the town's likeliest target, so the vote drifts there)."""
    if t.memory.dm_day == t.day or t.memory.voice.random() >= LIE_DM:
        return None
    pick = town_pick(t, list(t.alive))
    town = [p for p in t.alive if p not in t.team and p != pick]
    if pick is None or not town:
        return None
    listener = t.memory.voice.choice(town)
    move = DayAction("dm", listener)
    if move not in t.request.options:
        return None
    t.memory.dm_day = t.day
    return move, dm_text("lie", listener, pick, t.memory.voice, t.table.heard)


def speech(t: Turn) -> str:
    parts = claims(t)
    denial: list[Line] = []
    for c in t.claim_accusers(t.me):
        if not t.said("liar", c):
            t.say("liar", c)
            denial.append(line("liar", c))
    claimed = bool(parts) or t.me in t.table.detective_claims
    if denial and not claimed and not t.said("innocent"):
        t.say("innocent")
        denial.insert(0, line("innocent"))
    parts += denial
    if not parts and t.memory.moment >= 2:
        parts += bandwagon(t) or lean(t)
    return t.phrase(parts)


def lean(t: Turn) -> list[Line]:
    """While no town player has a suspicion point (whatever the town thinks of us), say where
    the vote goes as the town does on a day without evidence: the plan's target (a frame
    where the round's order puts one of us first)."""
    pick = town_pick(t, [p for p in t.alive if p != t.me])
    if pick is None or t.neutral.scores.get(pick, 0.0) >= 1.0 or t.said("accuse", pick):
        return []
    if t.rng.random() >= NAME_A_VOTE:
        return []
    t.say("accuse", pick)
    return [line("lean", pick)]


def claims(t: Turn) -> list[Line]:
    """A counter-claim against a detective who named one of us, or a fake claim on day one;
    a player who claimed keeps naming town players as mafia."""
    table, team = t.table, t.team
    town = [p for p in t.alive if p not in team]
    if not town:
        return []
    ours = [c for c in table.detective_claims if c in team]
    if t.me in ours:
        return fake_findings(t, town)
    if ours:
        return []
    for c in table.detective_claims:
        if c in team or c not in t.alive:
            continue
        named = {s.claim.subject for s in results(table, c) if s.claim.kind == "accuse"}
        mates = [p for p in living_team(t) if p in named]
        if not mates:
            continue
        free = [p for p in living_team(t) if p not in named] or mates
        if free[0] != t.me:
            return []
        if c not in t.memory.counter:
            t.memory.counter[c] = t.rng.random() < COUNTER_CLAIM
        if t.memory.counter[c]:
            t.say("liar", c)
            return [line("detective"), line("liar", c)]
        return []
    if t.memory.fake_claim is None:  # a godfather, whom a check clears, dares it more
        chance = FAKE_CLAIM_GODFATHER if t.role.spec.appears_as else FAKE_CLAIM
        t.memory.fake_claim = t.rng.random() < chance
    lead = living_team(t)
    if (t.memory.fake_claim and not table.detective_claims and lead[0] == t.me
            and len(lead) >= 2 and t.memory.moment == 1):
        accused = t.neutral.ranked(town, t.order)[0]
        t.say("accuse", accused)
        return [line("detective"), line("found_mafia", accused)]
    return []


def fake_findings(t: Turn, town: list[str]) -> list[Line]:
    """A fake detective answers rival claimants and names one new town player a day."""
    parts = [line("liar", c) for c in t.table.detective_claims
             if c not in t.team and c in t.alive and not t.said("liar", c)]
    for c in t.table.detective_claims:
        if c not in t.team:
            t.say("liar", c)
    named = {s.claim.subject for s in results(t.table, t.me)}
    fresh = [p for p in t.neutral.ranked(town, t.order) if p not in named]
    if fresh and t.memory.moment == 1 and not t.said("accuse", fresh[0]):
        t.say("accuse", fresh[0])
        parts.append(line("found_mafia", fresh[0]))
    return parts


def bandwagon(t: Turn) -> list[Line]:
    """Join the town's suspicion of a town player (never lead it)."""
    town = [p for p in t.neutral.ranked(t.alive, t.order) if p not in t.team]
    if not town or t.neutral.scores.get(town[0], 0.0) < 1.0 or t.said("accuse", town[0]):
        return []
    if t.rng.random() < 0.5:
        t.say("accuse", town[0])
        return [line("suspect", town[0], reason_for(t, town[0]))]
    return []


def last_words(t: Turn) -> str:
    town = [p for p in t.neutral.ranked(t.alive, t.order) if p not in t.team]
    return t.phrase([line("innocent"),
                     *([line("suspect", town[0], reason_for(t, town[0]))] if town else [])])
