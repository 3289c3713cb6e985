"""The heuristic player's speech: several phrasings per intent, drawn from the player's own
voice generator (so how it speaks never changes what it decides), with reasons taken from
the game.

Every phrasing of an intent that carries information is read by the claim detector
(mafia.claims) exactly as that intent's first phrasing, so heuristic players understand each
other whatever words they draw (tested), and the figures count them. Reasons and questions
are written so that the detector reads nothing more from them. Only names at the table are
ever used: every name comes from the game.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable

from mafia.text import normalise

REWORDINGS = 6  # draws of other wordings before a message that repeats a heard one is kept

PHRASES: dict[str, tuple[str, ...]] = {
    # role claims
    "detective": ("I am the detective.", "I'm the detective.", "Time to say it: I am the detective.",
                  "I am the detective, and I have news."),
    "doctor": ("I am the doctor.", "I'm the doctor.", "Fine, I will say it: I am the doctor."),
    "innocent": ("I am not mafia.", "I'm not mafia.", "I am not mafia, I promise.",
                 "Look, I am not mafia."),
    # a check, told by a detective (or faked by a mafia claimant)
    "found_mafia": ("I checked {name}: mafia.", "I checked {name} last night: mafia.",
                    "I investigated {name}: mafia.", "I checked {name} and the answer was mafia."),
    "found_town": ("I checked {name}: town.", "I investigated {name}: town.",
                   "I checked {name} and the answer was town.", "I checked {name}: innocent."),
    # accusations and clearings
    "mafia": ("{name} is mafia.", "{name} is mafia, no doubt about it.", "I am sure {name} is mafia."),
    "town": ("{name} is town.", "{name} is town, leave {name} alone.", "I am sure {name} is town."),
    "liar": ("{name} is lying.", "{name} is a liar.", "Don't believe {name}: {name} is lying.",
             "{name} is lying to all of us."),
    "suspect": ("I suspect {name}.", "Right now I suspect {name}.", "I suspect {name} the most.",
                "Honestly, I suspect {name}."),
    "trust": ("I trust {name}.", "I trust {name} for now."),
    # no evidence, but where the vote goes (read as nothing by the detector)
    "lean": ("Nothing to go on yet, so my vote goes to {name}.",
             "No real evidence yet. I lean towards {name} for now.",
             "I have nothing solid, so {name} gets my vote for now.",
             "Without any lead, I will go with {name} today.",
             "No proof either way, so I am voting {name} for now.",
             "It is a guess, but {name} gets my vote today."),
    "quiet": ("No leads yet. Detective, speak up when you know something.",
              "We know nothing yet. If your role gives you information, now is the time.",
              "Nobody has anything solid yet. Let us hear from everyone.",
              "Too early to tell. Let us listen before we vote.",
              "Still nothing to go on. Whoever learned something at night, tell us.",
              "I have seen nothing useful yet. What about the rest of you?",
              "Nothing concrete so far. I want to hear every voice first."),
    # the jester's: court a vote without a denial, and gloat when it worked
    "shrug": ("Believe what you like.", "Vote me out if you dare.",
              "Maybe, maybe not. You will have to vote to find out."),
    "rush": ("Let's vote now, no more talk.", "Stop talking and vote.",
             "Enough talk, we should vote."),
    "gloat": ("You fell for it. I was the jester all along.", "Thank you all. The jester wins.",
              "Exactly as I hoped. Jester wins."),
    "careful": ("Let us not rush. Who has been quiet?", "Slow down. Who has not said anything yet?",
                "We should not rush this vote. Who benefits from it?",
                "No need to hurry. Who has kept to themselves so far?",
                "Before we vote, I want to hear from the quiet ones.",
                "Let us take our time. Who has said the least today?"),
    # mafia channel: the first "kill NAME" proposal of the night is the team's target
    "kill": ("Kill {name}.", "Let's kill {name} tonight.", "I say we kill {name}.",
             "Kill {name}, they are dangerous."),
    "agree": ("Agreed. Kill {name}.", "Yes, kill {name}.", "Fine by me, kill {name}.",
              "Good plan, kill {name}."),
    # ... and the first "vote NAME" of the night is whom the team votes by day where the
    # public evidence does not pick one town player over the others
    "plan": ("Tomorrow we vote {name}.", "By day we both vote for {name}.",
             "Tomorrow, vote {name} with me.", "Then we vote {name} tomorrow."),
    # talk around the claims (read as nothing by the detector)
    "ask": ("{name}, who do you suspect?", "{name}, what do you think?",
            "{name}, whom would you vote for?", "What about you, {name}?"),
    "agree_with": ("I agree with {name}.", "{name} makes sense to me.", "Same as {name}."),
    "doubt": ("I don't follow {name} on this.", "{name}, I am not convinced.",
              "Hold on, {name}, that does not add up."),
}
# Reasons (clauses after "because"), each naming what happened in the game.
REASONS: dict[str, tuple[str, ...]] = {
    "voted_town": ("{name} voted for {other}, who was town",
                   "{name} put a vote on {other}, and {other} was town"),
    "defended_mafia": ("{name} defended {other}, who turned out to be mafia",
                       "{name} stood up for {other}, and {other} was mafia"),
    "claim_says": ("{other} named {name} after a check", "{other} checked {name}"),
    "contested": ("{name} claimed detective after {other} did",),
}
# Private messages: a town player tells a trusted one its suspicion; a mafia member plants a
# lie with a town player.
DMS: dict[str, tuple[str, ...]] = {
    "ally": ("{name}, I trust you. Between us, keep an eye on {other}.",
             "{name}, let's work together. I have doubts about {other}.",
             "Between you and me, {name}: {other} worries me."),
    "lie": ("{name}, between us: I have a bad feeling about {other}.",
            "{name}, you seem honest. Watch {other}, please.",
            "Keep this quiet, {name}, but {other} is acting strange."),
}

Line = tuple[str, str, str]  # (intent, player named or "", reason or "")


def line(key: str, name: str = "", reason: str = "") -> Line:
    return key, name, reason


def render(key: str, name: str, voice: random.Random, reason: str = "") -> str:
    text = voice.choice(PHRASES[key]).format(name=name)
    if reason:
        text = f"{text[:-1]} because {reason}."
    return text


def reason_text(kind: str, name: str, other: str, voice: random.Random) -> str:
    return voice.choice(REASONS[kind]).format(name=name, other=other)


def dm_text(kind: str, name: str, other: str, voice: random.Random,
            heard: Collection[str] = ()) -> str:
    return fresh(lambda: voice.choice(DMS[kind]).format(name=name, other=other), heard)


def fresh(word: Callable[[], str], heard: Collection[str]) -> str:
    """A message worded again (a few draws of the voice at most) while it would repeat one
    already heard this game word for word: people do not echo each other's exact words.
    Every wording of an intent reads the same to the claim detector, so what players conclude
    does not move (the 1,000-game tables of docs/playing.md are unchanged); a timed
    discussion's clock counts words, so when lines fall within a day may."""
    text = word()
    for _ in range(REWORDINGS):
        if normalise(text) not in heard:
            break
        text = word()
    return text


def join(lines: Iterable[Line], voice: random.Random, heard: Collection[str] = ()) -> str:
    """Lines as one message; a second line about a player already named is dropped (no
    "Carol is lying. Carol is mafia."); worded afresh where it would repeat a heard one."""
    kept = list(lines)
    return fresh(lambda: _join(kept, voice), heard)


def _join(lines: list[Line], voice: random.Random) -> str:
    out: list[str] = []
    named: set[str] = set()
    for key, name, reason in lines:
        if name and name in named:
            continue
        if key not in ("ask", "agree_with", "doubt"):
            named.add(name)
        out.append(render(key, name, voice, reason))
    return " ".join(out)
