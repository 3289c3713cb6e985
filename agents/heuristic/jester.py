"""Jester play: it wins alone when the town votes it out, so it courts suspicion without
being caught out as the jester. On a day it picks one act: most often a false detective
claim that names a player as mafia (a counter-claim the town must settle with a vote),
else a bold accusation of the town's own favourite suspect with a call to vote fast.
It answers accusations with a shrug instead of a denial, votes like an ordinary player
(for the town's top suspect), and gloats in its last words."""

from __future__ import annotations

from mafia.decisions import SAY, WAIT, Option

from mafia.agents.heuristic.speech import Line, line
from mafia.agents.heuristic.turn import Turn

FAKE_CLAIM = 0.6  # chance per game of faking a detective claim on the first day it speaks


def decide(t: Turn) -> tuple[Option | None, str]:
    kind = t.request.kind.value
    if kind == "day_action":
        return day_action(t)
    if kind == "vote":
        return vote(t), ""
    if kind == "last_words":
        return None, t.phrase([line("gloat")])
    return (t.legal[0] if t.legal else None), ""


def vote(t: Turn) -> str:
    """With the town: its favourite suspect among the others (blending in costs nothing)."""
    return t.neutral.ranked(t.targets, t.order)[0]


def day_action(t: Turn) -> tuple[Option, str]:
    text = speech(t)
    if text and SAY in t.request.options:
        return SAY, text
    return WAIT, ""


def speech(t: Turn) -> str:
    others = [p for p in t.alive if p != t.me]
    if not others:
        return ""
    parts: list[Line] = []
    if t.memory.fake_claim is None:
        t.memory.fake_claim = t.rng.random() < FAKE_CLAIM
    claimed = t.me in t.table.detective_claims
    if t.memory.fake_claim and not claimed and t.memory.moment == 1:
        accused = t.memory.voice.choice(others)  # a false finding: any name will do
        t.say("accuse", accused)
        parts += [line("detective"), line("found_mafia", accused)]
    elif t.claim_accusers(t.me) and not t.said("shrug"):
        t.say("shrug")
        parts.append(line("shrug"))
    elif t.memory.moment == 2 and not t.said("accuse"):
        top = t.neutral.ranked(others, t.order)[0]
        t.say("accuse")
        parts += [line("mafia", top), line("rush")]
    return t.phrase(parts)
