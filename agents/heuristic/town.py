"""Town play: the detective's investigations and claims, the doctor's protection, and every
town player's talk and vote, from the player's own beliefs (mafia.agents.heuristic.beliefs)."""

from __future__ import annotations

from mafia.decisions import ABSTAIN, SAY, WAIT, DayAction, Option
from mafia.enums import Role, Team

from mafia.agents.heuristic.beliefs import SURE
from mafia.agents.heuristic.reasons import reason_for
from mafia.agents.heuristic.speech import Line, dm_text, line
from mafia.agents.heuristic.turn import Turn

PROTECT_CLAIMANT = 1.0  # times the claim's credibility: how often the doctor guards it
SELF_PROTECT = 0.4  # the doctor's share of nights on itself when nobody needs it more
NAME_A_VOTE = 0.25  # chance per moment of naming one's vote when there is no evidence
ASK = 0.35  # chance of adding a question to another player after an accusation
ALLY_DM = 0.5  # chance per day of telling a player known to be town whom it suspects
SHOOT_SURE = 5.0  # suspicion points at which a vigilante fires (a credible claim: about 7)
SHOOT_LATE = 5  # with this few alive, a vigilante fires on any lead (1 point)


def investigate(t: Turn) -> str:
    """An unchecked player, the most suspicious first (a contested claimant scores high:
    checking one settles the counter-claim); ties by the player's own draw."""
    unchecked = [p for p in t.targets if p not in t.table.findings] or t.targets
    t.rng.shuffle(unchecked)
    scores = t.mine.scores
    return max(unchecked, key=lambda p: scores.get(p, 0.0))


def protect(t: Turn) -> str:
    """The most credible detective claimant (as sure as the claim is credible), else itself
    now and then, else a player known to be town, else anyone."""
    trust = t.mine.trust
    claimants = sorted((c for c in t.targets if c != t.me and trust.get(c, 0.0) > 0.0),
                       key=lambda c: (-trust[c], t.order.get(c, 0)))
    if claimants:
        if t.rng.random() < trust[claimants[0]] * PROTECT_CLAIMANT:
            return claimants[0]
    claimed_doctor = t.table.role_claims.get(t.me) == Role.DOCTOR.value
    if t.me in t.targets and (claimed_doctor or t.rng.random() < SELF_PROTECT):
        return t.me
    town = [p for p in t.targets if p != t.me and t.mine.known.get(p) is Team.TOWN]
    return t.rng.choice(town or t.targets)


def shoot(t: Turn) -> str:
    """The vigilante's one shot: the top suspect once the evidence is strong (a credible
    detective named them, or they are known mafia), or late in the game on any lead; else
    hold fire for a better night. Never at a player known not to be mafia."""
    ranked = [p for p in t.mine.ranked(t.targets, t.order)
              if t.mine.known.get(p) in (None, Team.MAFIA)]
    if not ranked:
        return ABSTAIN
    score = t.mine.scores.get(ranked[0], 0.0)
    if score >= SHOOT_SURE or (len(t.alive) <= SHOOT_LATE and score >= 1.0):
        return ranked[0]
    return ABSTAIN


def vote(t: Turn) -> str:
    ranked = t.mine.ranked(t.targets, t.order)
    best = ranked[0]
    sure = [p for p in ranked if t.mine.scores.get(p, 0.0) >= SURE / 2]
    found = [p for p in sure if t.table.findings.get(p) is Team.MAFIA]
    if found:  # a detective votes the mafia it found (the town follows its claim)
        return t.neutral.ranked(found, t.order)[0]
    if len(sure) > 1:  # several known mafia: the one the town goes for, so votes add up
        return t.neutral.ranked(sure, t.order)[0]
    if t.table.rule("vote_reveal") == "sequential" and t.mine.scores.get(best, 0.0) < 1.0:
        wagon = t.band_wagon([p for p in ranked if t.mine.known.get(p) is not Team.TOWN])
        if wagon is not None:
            return wagon
    return best


def day_action(t: Turn) -> tuple[Option, str]:
    text = speech(t)
    if text and SAY in t.request.options:
        return SAY, text
    return private_word(t) or (WAIT, "")


def private_word(t: Turn) -> tuple[Option, str] | None:
    """Once a day, at a moment it has nothing to say in public: tell a player it knows to be
    town (a detective's cleared player) whom it suspects."""
    if t.memory.dm_day == t.day:
        return None
    allies = [p for p in t.alive if p != t.me and t.mine.known.get(p) is Team.TOWN]
    others = [p for p in t.alive if p != t.me and p not in allies]
    if not allies or not others:
        return None
    top = t.mine.ranked(others, t.order)[0]
    if t.mine.scores.get(top, 0.0) < 1.0 or t.memory.voice.random() >= ALLY_DM:
        return None
    ally = t.memory.voice.choice(allies)
    move = DayAction("dm", ally)
    if move not in t.request.options:
        return None
    t.memory.dm_day = t.day
    return move, dm_text("ally", ally, top, t.memory.voice, t.table.heard)


def speech(t: Turn) -> str:
    parts = detective_lines(t) if t.role is Role.DETECTIVE else []
    claimed = bool(parts) or t.me in t.table.detective_claims
    parts += defence(t, claimed)
    if not claimed:  # a claimed detective's every accusation reads as a finding
        parts += suspicion(t)
    if not parts and t.memory.moment == 1 and not t.said("filler"):
        t.say("filler")
        if t.rng.random() < 0.3:
            parts.append(line("careful" if t.table.detective_claims else
                              t.rng.choice(("quiet", "careful"))))
    return t.phrase(parts)


def detective_lines(t: Turn) -> list[Line]:
    """Claim when a living mafia is found, when another player claims detective (a liar, as
    there is one detective), when the town is about to vote this player out, or to clear a
    player the town is about to vote out. Once claimed, every new finding is told."""
    table, memory, alive = t.table, t.memory, t.alive
    found = [p for p, team in table.findings.items() if p in alive]
    mafia = [p for p in found if table.findings[p] is Team.MAFIA]
    cleared = [p for p in found if table.findings[p] is Team.TOWN]
    fakes = [c for c in table.detective_claims if c != t.me and c in alive
             and table.count("detective") == 1]
    claimed = t.me in table.detective_claims
    target = t.neutral.ranked(alive, t.order)[0]
    late = t.memory.moment >= 2
    reasons = (
        any(("mafia", p) not in memory.announced for p in mafia)
        or any(("liar", c) not in memory.announced for c in fakes)
        or (late and target == t.me and t.neutral.scores.get(t.me, 0.0) >= 1.0)
        or (late and target in cleared and ("town", target) not in memory.announced)
        or (claimed and any(("town", p) not in memory.announced for p in cleared))
    )
    if not reasons:
        return []
    parts = [] if claimed else [line("detective")]
    for key, names in (("liar", fakes), ("mafia", mafia), ("town", cleared)):
        for name in names:
            if (key, name) not in memory.announced:
                memory.announced.add((key, name))
                parts.append(line({"mafia": "found_mafia", "town": "found_town"}.get(key, key),
                                  name))
                if key != "town":  # called a liar or mafia once: no second line about them
                    memory.announced |= {("liar", name), ("mafia", name)}
                    t.say("liar", name)
    return parts


def defence(t: Turn, claimed: bool) -> list[Line]:
    """Answer a detective claimant who named this player (they must be lying), and speak up
    when the town is about to vote this player out."""
    parts: list[Line] = []
    for c in t.claim_accusers(t.me):
        if not t.said("liar", c):
            t.say("liar", c)
            parts.append(line("liar", c))
    in_danger = (t.memory.moment >= 2 and t.neutral.ranked(t.alive, t.order)[0] == t.me
                 and t.neutral.scores.get(t.me, 0.0) >= 1.0)
    if (parts or in_danger) and not claimed and not t.said("innocent"):
        t.say("innocent")
        claim_doctor = (t.role is Role.DOCTOR and t.neutral.scores.get(t.me, 0.0) >= 5.0
                        and t.me not in t.table.role_claims)
        parts.insert(0, line("innocent"))
        if claim_doctor:
            parts.insert(0, line("doctor"))
    return parts


def suspicion(t: Turn) -> list[Line]:
    others = [p for p in t.alive if p != t.me]
    if not others:
        return []
    top = t.mine.ranked(others, t.order)[0]
    score = t.mine.scores.get(top, 0.0)
    key = "mafia" if score >= SURE / 2 else "suspect" if score >= 1.0 else ""
    if not key and t.memory.moment >= 2 and t.rng.random() < NAME_A_VOTE:
        key = "lean"  # no evidence, but say where the vote goes (not read as an accusation)
    if not key or t.said("accuse", top):
        return []
    t.say("accuse", top)
    out = [line(key, top, reason_for(t, top) if key != "lean" else "")]
    rest = [p for p in others if p != top]
    if rest and t.memory.voice.random() < ASK:
        out.append(line("ask", t.memory.voice.choice(rest)))
    return out


def last_words(t: Turn) -> str:
    if t.role is Role.DETECTIVE and t.table.findings:
        parts = [line("detective")]
        for p, team in t.table.findings.items():
            if p in t.alive and p != t.me:
                parts.append(line("found_mafia" if team is Team.MAFIA else "found_town", p))
        return t.phrase(parts)
    others = [p for p in t.alive if p != t.me]
    parts = [line("innocent")]
    if others:
        top = t.mine.ranked(others, t.order)[0]
        if t.mine.scores.get(top, 0.0) >= 1.0:
            parts.append(line("suspect", top, reason_for(t, top)))
    return t.phrase(parts)
