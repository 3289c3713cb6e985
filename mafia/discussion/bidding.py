"""`bidding` (as in Werewolf Arena): `discussion_turns` turns per day. In each turn every
living player bids how urgently they want the floor (0-4, a choice with the legal bids as
options); the highest bidder gets the floor and may speak, DM someone or pass. Ties are
broken by the game's generator, favouring players named in the last public message. When
every bid is 0 nobody has the floor that turn. The bids are recorded in a `floor_bids`
event that no player sees (it shows in the omniscient replay and the report)."""

from __future__ import annotations

import re

from mafia.config import Rules
from mafia.enums import DecisionKind
from mafia.events import FloorBids

from mafia.discussion.base import DayHost, commit

BIDS = ("0", "1", "2", "3", "4")


class Bidding:
    def active(self, rules: Rules) -> bool:
        return rules.discussion_turns > 0

    async def run(self, host: DayHost, day: int) -> None:
        last_public = ""
        for turn in range(1, host.rules.discussion_turns + 1):
            alive = host.alive()
            answers = await host.ask([(p, DecisionKind.BID, BIDS) for p in alive])
            bids = {p: int(str(a.choice)) for p, a in zip(alive, answers)}
            speaker = pick_speaker(bids, last_public, host.rng)
            host.emit(FloorBids, visible_to=(), turn=turn, bids=bids, speaker=speaker)
            if speaker is None:
                continue
            (answer,) = await host.ask([(speaker, DecisionKind.DAY_ACTION,
                                         host.day_options(speaker))])
            message = commit(host, speaker, answer)
            if message is not None and message.recipient is None:
                last_public = message.text


def pick_speaker(bids: dict[str, int], last_public: str, rng) -> str | None:  # type: ignore[no-untyped-def]
    """The highest bidder; among equal bids, those named in the last public message first,
    then a seeded draw. Nobody when every bid is 0."""
    top = max(bids.values(), default=0)
    if top <= 0:
        return None
    tied = [p for p, b in bids.items() if b == top]
    named = [p for p in tied if re.search(rf"\b{re.escape(p)}\b", last_public)]
    pool = named or tied
    return pool[0] if len(pool) == 1 else rng.choice(pool)
