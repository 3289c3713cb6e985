"""`clock` (asynchronous chat, as in LLMafia, on a simulated clock): the day's discussion
lasts `day_seconds` of simulated time. Every living player decides (speak, DM someone, or
wait) at the start, again whenever a message they can see lands while they are idle, and at
the latest `max_silence_seconds` after their last decision or message. A message takes
simulated typing time (its words / `words_per_second`, at least one second) during which its
author is busy and is not asked; it lands at the end of that time, stamped with `t` (and
`started`, when the typing began). Messages land in simulated-time order, equal times in an
order drawn from the game's generator; one that would land after the day's end is never
sent. Each player decides at most `clock_decisions_per_day` times a day, which bounds a day.

How fast a model answers never matters: players asked at the same simulated instant are
asked together and their answers take no simulated time, so a seed gives one transcript."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from mafia.config import Rules
from mafia.decisions import Answer, DayAction
from mafia.enums import Channel, DecisionKind
from mafia.events import Typing

from mafia.discussion.base import DayHost

MIN_TYPING_SECONDS = 1.0


def typing_seconds(text: str, words_per_second: float) -> float:
    return max(MIN_TYPING_SECONDS, len(text.split()) / words_per_second)


@dataclass(order=True)
class _Due:
    t: float
    tie: float  # drawn from the game's generator: equal times land in a seeded order
    n: int  # scheduling order, so no two entries compare equal
    what: str = field(compare=False)  # "land" (a message arrives) or "wake" (silence ran out)
    player: str = field(compare=False)
    epoch: int = field(compare=False, default=0)  # a wake-up is void once the player decided
    action: DayAction | None = field(compare=False, default=None)
    text: str = field(compare=False, default="")
    started: float = field(compare=False, default=0.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0  # simulated seconds into the current day (for views and tests)

    def active(self, rules: Rules) -> bool:
        return rules.day_seconds > 0 and rules.clock_decisions_per_day > 0

    async def run(self, host: DayHost, day: int) -> None:
        r = host.rules
        alive = host.alive()
        queue: list[_Due] = []
        counter = itertools.count()
        busy: set[str] = set()
        epoch = dict.fromkeys(alive, 0)
        used = dict.fromkeys(alive, 0)

        def schedule(t: float, what: str, player: str, **rest: object) -> None:
            heapq.heappush(queue, _Due(t, host.rng.random(), next(counter), what, player,
                                       **rest))  # type: ignore[arg-type]

        now, due = 0.0, set(alive)
        self.now = now
        while True:
            asked = [p for p in alive if p in due and p not in busy
                     and used[p] < r.clock_decisions_per_day]
            if asked:
                answers = await host.ask([(p, DecisionKind.DAY_ACTION, host.day_options(p))
                                          for p in asked])
                for p, answer in zip(asked, answers):
                    used[p] += 1
                    epoch[p] += 1
                    self._start(host, p, answer, now, busy, epoch[p], schedule)
            if not queue or queue[0].t > r.day_seconds:
                return  # the day is over (a message still being typed is never sent)
            now, due = queue[0].t, set()
            self.now = now
            while queue and queue[0].t == now:
                item = heapq.heappop(queue)
                if item.what == "wake":
                    if item.epoch == epoch[item.player] and item.player not in busy:
                        due.add(item.player)
                    continue
                busy.discard(item.player)
                assert item.action is not None
                message = host.publish(item.player, item.action, item.text, t=now,
                                       started=item.started)
                schedule(now + r.max_silence_seconds, "wake", item.player,
                         epoch=epoch[item.player])
                if message is not None:
                    seen_by = message.visible_to or alive
                    due.update(p for p in seen_by if p != item.player)

    @staticmethod
    def _start(host: DayHost, player: str, answer: Answer, now: float, busy: set[str],
               epoch: int, schedule) -> None:  # type: ignore[no-untyped-def]
        """A decision taken at `now`: start typing a message, or wait."""
        r = host.rules
        action = answer.choice
        text = host.speech(player, answer) if isinstance(action, DayAction) else ""
        if not isinstance(action, DayAction) or action.action == "wait" or not text:
            schedule(now + r.max_silence_seconds, "wake", player, epoch=epoch)
            return
        busy.add(player)
        lands = now + typing_seconds(text, r.words_per_second)
        schedule(lands, "land", player, action=action, text=text, started=now)
        if r.typing_events:
            dm = action.action == "dm"
            host.emit(Typing, visible_to=(player, action.to) if dm else None, player=player,
                      channel=Channel.DM if dm else Channel.PUBLIC,
                      recipient=action.to if dm else None, t=now)
