"""A request's legal options as a menu a person reads, and typed answers matched back to them.

Both front ends (the app's option list and the line mode's numbered line) use one menu, so a
key means the same option in either. Speaking is listed first, as the model player lists it."""

from __future__ import annotations

from dataclasses import dataclass

from mafia.decisions import ABSTAIN, DayAction, Option, Request
from mafia.enums import DecisionKind

QUESTIONS = {
    DecisionKind.KILL: "Night: whom should the mafia kill?",
    DecisionKind.PROTECT: "Night: whom do you protect?",
    DecisionKind.INVESTIGATE: "Night: whom do you investigate?",
    DecisionKind.SHOOT: "Night: whom do you shoot? (one shot per game; or hold fire)",
    DecisionKind.DAY_ACTION: "Your move: speak to everyone, DM someone, or wait",
    DecisionKind.VOTE: "Vote: whom should the town eliminate?",
    DecisionKind.BID: "Bid for the floor: the highest bid speaks next (bids are secret)",
    DecisionKind.MAFIA_CHAT: "Mafia channel: a message for your team",
    DecisionKind.LAST_WORDS: "You are voted out: your last words",
}
BID_WORDS = {"0": "pass", "1": "might say something", "2": "want to speak",
             "3": "need to speak", "4": "must speak now"}


@dataclass(frozen=True)
class Choice:
    key: str  # what to press or type: "1", "2", ...; a bid is its own number
    label: str  # what the person reads
    option: Option
    speech: str | None = None  # where a day action's text goes ("everyone", "Bob"); None: none


def menu(request: Request) -> list[Choice]:
    """The request's options in the order shown, each with its key."""
    if request.kind is DecisionKind.BID:
        return [Choice(str(o), BID_WORDS.get(str(o), "bid"), o) for o in request.options]
    ordered = sorted(request.options, key=_rank)
    return [Choice(str(i), _label(o, request.kind), o, _speech(o))
            for i, o in enumerate(ordered, 1)]


def _rank(option: Option) -> int:
    if isinstance(option, DayAction):
        return {"say": 0, "wait": 1}.get(option.action, 2)
    return 1 if option == ABSTAIN else 0  # sorted() is stable: names keep the engine's order


def _label(option: Option, kind: DecisionKind) -> str:
    if isinstance(option, DayAction):
        return "speak" if option.action == "say" else str(option)
    if option == ABSTAIN and kind is DecisionKind.SHOOT:
        return "hold fire"
    return str(option)


def _speech(option: Option) -> str | None:
    if isinstance(option, DayAction) and option.action == "say":
        return "everyone"
    if isinstance(option, DayAction) and option.action == "dm":
        return option.to
    return None


def match(text: str, choices: list[Choice]) -> Choice | None:
    """The choice a typed answer means: its key, its label, or the option itself ("say",
    "dm bob", a name); case and surrounding spaces do not matter. None when nothing fits."""
    said = " ".join(text.split()).lower()
    if not said:
        return None
    for test in (lambda c: c.key == said, lambda c: c.label.lower() == said,
                 lambda c: str(c.option).lower() == said):
        found = [c for c in choices if test(c)]
        if len(found) == 1:
            return found[0]
    return None


def speech_prompt(request: Request, to: str | None) -> str:
    """Where a message goes and how long it may be, as one short phrase."""
    where = {DecisionKind.MAFIA_CHAT: "to the mafia channel",
             DecisionKind.LAST_WORDS: "last words, to everyone"}.get(request.kind)
    if where is None:
        where = "to everyone" if to in (None, "everyone") else f"a DM to {to}"
    return f"{where}, at most {request.max_chars} characters; empty: say nothing"
