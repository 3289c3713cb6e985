"""The game engine: runs phases, asks players, validates answers, and is the only writer of
game state. State changes only by emitting events (see `GameState.apply`)."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mafia import __version__, rules
from mafia.discussion import protocol
from mafia.config import SEAT_NAMES, Rules
from mafia.decisions import (
    ABSTAIN, SAY, WAIT, Answer, CallInfo, DayAction, NoAnswer, Option, Request,
)
from mafia.enums import Channel, DecisionKind, Phase, Winner
from mafia.events import (
    BaseEvent, GameOver, GameStarted, InvalidAction, InvestigationResult, KillDecided,
    LastWords, Message, ModelCall, NightAction, NobodyDied, PhaseStarted, PlayerDied,
    RoleAssigned, VoteCast, VoteResult,
)
from mafia.observation import observe
from mafia.state import GameState
from mafia.provenance import build
from mafia.roles.spec import NIGHT_ORDER
from mafia.text import clean_speech

from mafia.decisions import Player

_NIGHT_KIND = {"team_kill": DecisionKind.KILL, "protect": DecisionKind.PROTECT,
               "investigate": DecisionKind.INVESTIGATE, "shoot": DecisionKind.SHOOT}
_ACTION = {DecisionKind.KILL: "kill", DecisionKind.PROTECT: "protect",
           DecisionKind.INVESTIGATE: "investigate", DecisionKind.SHOOT: "shoot"}

EventSink = Callable[[BaseEvent], None]
WaitingHook = Callable[[frozenset[str]], None]  # the seats the engine is waiting on


@dataclass(frozen=True)
class GameResult:
    winner: Winner
    days: int
    state: GameState
    events: list[BaseEvent]


class _Failure:
    """What came back from a player when it did not return an Answer normally."""

    def __init__(self, error: str, got: object = None) -> None:
        self.error, self.got = error, got


class _GameOver(Exception):
    pass


class Engine:
    def __init__(
        self,
        rules_: Rules,
        seed: int,
        players: Sequence[Player],
        *,
        sinks: Sequence[EventSink] = (),
        on_waiting: WaitingHook | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if len(players) != rules_.players:
            raise ValueError(f"{len(players)} players for a {rules_.players}-player game")
        self.rules = rules_
        self.seed = seed
        self.rng = random.Random(seed)  # the game's one generator: roles, orders, ties, fallbacks
        self.names = SEAT_NAMES[: rules_.players]
        self.players = dict(zip(self.names, players))
        self.sinks = list(sinks)
        self.on_waiting = on_waiting
        self.timeout_s = timeout_s
        self.state = GameState()
        self.events: list[BaseEvent] = []
        self.seen: dict[str, list[BaseEvent]] = {n: [] for n in self.names}
        self.asked: dict[str, int] = dict.fromkeys(self.names, 0)
        self.discussion = protocol(rules_.discussion)

    # ---- the only way state changes -------------------------------------------------------

    def emit(self, cls: type[BaseEvent], visible_to: Sequence[str] | None = None,
             phase: Phase | None = None, day: int | None = None, **fields: Any) -> BaseEvent:
        event = cls(
            seq=len(self.events),
            day=self.state.day if day is None else day,
            phase=self.state.phase if phase is None else phase,
            visible_to=None if visible_to is None else tuple(visible_to),
            **fields,
        )
        self.state.apply(event)
        self.events.append(event)
        if visible_to is None:
            for seen in self.seen.values():
                seen.append(event)
        else:
            for name in event.visible_to or ():
                self.seen[name].append(event)
        for sink in self.sinks:
            sink(event)
        return event

    # ---- the game --------------------------------------------------------------------------

    async def run(self) -> GameResult:
        self._setup()
        day, phase = 1, self.rules.first
        victims: list[str] = []
        had_night = False
        try:
            while True:
                if phase is Phase.NIGHT:
                    victims = await self._night(day)
                    had_night = True
                    phase = Phase.DAY
                    if self.rules.first is Phase.DAY:
                        day += 1
                else:
                    await self._day(day, victims if had_night else [], had_night)
                    if day >= self.rules.max_days:
                        self._end(Winner.DRAW, f"day limit ({self.rules.max_days}) reached")
                    phase = Phase.NIGHT
                    if self.rules.first is Phase.NIGHT:
                        day += 1
        except _GameOver:
            pass
        finally:
            await self._close_players()
        assert self.state.winner is not None
        return GameResult(self.state.winner, self.state.day, self.state, self.events)

    async def _close_players(self) -> None:
        """Players that hold something (a bot's process) define `aclose`; the game ends, or
        is interrupted, and they let it go. A failure to clean up cannot change a result."""
        closers = [p.aclose() for p in self.players.values() if hasattr(p, "aclose")]
        await asyncio.gather(*closers, return_exceptions=True)

    def _setup(self) -> None:
        dealt = rules.deal(self.rules, self.rng)  # the generator's first use: the deal
        self.emit(
            GameStarted, phase=Phase.SETUP, day=0, seed=self.seed, version=__version__,
            build=build(), config=self.rules.model_dump(mode="json"),
            players=[{"name": n, "agent": self.players[n].describe()} for n in self.names],
        )
        mafia = rules.mafia_side(dealt, self.names)
        for name in self.names:
            role = dealt[name]
            mates = tuple(m for m in mafia if m != name) if name in mafia else ()
            self.emit(RoleAssigned, visible_to=[name], phase=Phase.SETUP, day=0, player=name,
                      role=role.value, team=role.team, teammates=mates)

    def _end(self, winner: Winner, reason: str) -> None:
        self.emit(GameOver, phase=Phase.END, winner=winner, reason=reason,
                  roles={n: self.state.roles[n].value for n in self.names}, days=self.state.day)
        raise _GameOver

    def _died(self, name: str, cause: str) -> None:
        shown = rules.revealed_identity(self.state.roles[name], self.rules.reveal_on_death)
        self.emit(PlayerDied, player=name, cause=cause, **shown)

    def _voted_out(self, name: str) -> None:
        self._died(name, "vote")
        role = self.state.roles[name]
        alone = rules.vote_winner(role)
        if alone is not None:
            self._end(alone, f"the {role.value} was voted out")
        self._check_winner()

    def _check_winner(self) -> None:
        won = rules.winner(self.state.roles, self.state.alive)
        if won is Winner.TOWN:
            self._end(won, "no mafia left alive")
        if won is Winner.MAFIA:
            self._end(won, "mafia are as many as everyone else")

    def _order(self, day: int) -> tuple[str, ...]:
        return rules.round_order(self.seed, day, self.state.seats)

    # ---- night -----------------------------------------------------------------------------

    async def _night(self, day: int) -> list[str]:
        """Ask every night power in NIGHT_ORDER (each living holder, seat order), then resolve:
        the mafia's plurality kill and any vigilante's shot, unless protected."""
        self.emit(PhaseStarted, phase=Phase.NIGHT, day=day, order=self._order(day))
        st = self.state
        mafia = rules.mafia_side(st.roles, st.alive)
        if len(mafia) > 1:
            for _ in range(self.rules.night_chat_rounds):
                for m in self.rng.sample(mafia, len(mafia)):
                    answer = await self._ask_one(m, DecisionKind.MAFIA_CHAT, ())
                    text = self._speech(m, answer)
                    if text:
                        self.emit(Message, visible_to=mafia, channel=Channel.MAFIA, sender=m,
                                  text=text)
        asks: list[tuple[str, DecisionKind, tuple[Option, ...]]] = []
        for power in NIGHT_ORDER:
            for actor in st.living_with_power(power):
                asks.append((actor, _NIGHT_KIND[power], self._night_options(power, actor)))
        answers = await self._ask_many(asks)

        kills: list[str] = []
        shots: list[str] = []
        protected: set[str] = set()
        investigations: list[tuple[str, str]] = []
        for (actor, kind, _), answer in zip(asks, answers):
            if kind is DecisionKind.SHOOT and answer.choice == ABSTAIN:
                continue  # held fire: the shot is kept for a later night
            target = str(answer.choice)
            seen_by = mafia if kind is DecisionKind.KILL else [actor]
            self.emit(NightAction, visible_to=seen_by, actor=actor, action=_ACTION[kind],
                      target=target)
            if kind is DecisionKind.KILL:
                kills.append(target)
            elif kind is DecisionKind.PROTECT:
                protected.add(target)
            elif kind is DecisionKind.SHOOT:
                shots.append(target)
            else:
                investigations.append((actor, target))
        counted = rules.tally(kills)
        target = rules.break_tie(counted, "random", self.rng)
        self.emit(KillDecided, visible_to=mafia, target=target, tally=counted.counts,
                  tie=counted.tie)
        for det, who in investigations:
            result = rules.investigation_result(st.roles[who], self.rules.detective_learns)
            self.emit(InvestigationResult, visible_to=[det], detective=det, target=who,
                      result=result)
        return rules.night_deaths([target, *shots], protected, self.names)

    def _night_options(self, power: str, actor: str) -> tuple[Option, ...]:
        st, r = self.state, self.rules
        alive = list(st.alive)
        if power == "team_kill":
            return rules.kill_options(st.roles, alive)
        if power == "protect":
            return rules.protect_options(actor, alive, st.last_protected.get(actor),
                                         r.doctor_self_save, r.doctor_repeat_save)
        if power == "investigate":
            return rules.others(actor, alive)
        return rules.shoot_options(actor, alive)

    # ---- day -------------------------------------------------------------------------------

    async def _day(self, day: int, victims: list[str], after_night: bool) -> None:
        self.emit(PhaseStarted, phase=Phase.DAY, day=day, order=self._order(day))
        if after_night:
            if not victims:
                self.emit(NobodyDied)
            for victim in victims:  # every death is announced before the win is checked
                self._died(victim, "night")
            self._check_winner()
        if self.discussion.active(self.rules):
            await self.discussion.run(self, day)
        await self._vote()

    # ---- what a discussion protocol uses (mafia/discussion/base.py: DayHost) ---------------

    def alive(self) -> list[str]:
        return list(self.state.alive)

    async def ask(self, asks: Sequence[tuple[str, DecisionKind, tuple[Option, ...]]]
                  ) -> list[Answer]:
        return await self._ask_many(asks)

    def day_options(self, player: str) -> tuple[Option, ...]:
        st, r = self.state, self.rules
        options: list[Option] = [WAIT]
        cap = r.max_public_messages_per_day
        if cap is None or st.public_messages_today < cap:
            options.append(SAY)
        if st.dms_sent_today[player] < r.dm_limit_per_day:
            options.extend(DayAction("dm", p) for p in rules.others(player, st.alive))
        return tuple(options)

    def speech(self, player: str, answer: Answer) -> str:
        return self._speech(player, answer)

    def publish(self, player: str, action: DayAction, text: str,
                **timing: Any) -> Message | None:
        """Post a cleaned day message, unless a cap was reached since the move was legal
        (others spoke first in the same moment, or landed first on the clock)."""
        st, r = self.state, self.rules
        if action.action == "say":
            cap = r.max_public_messages_per_day
            if cap is not None and st.public_messages_today >= cap:
                return None
            return self.emit(Message, channel=Channel.PUBLIC, sender=player, text=text,
                             **timing)  # type: ignore[return-value]
        if action.action != "dm" or action.to not in st.alive or action.to == player:
            return None
        if st.dms_sent_today[player] >= r.dm_limit_per_day:
            return None
        return self.emit(Message, visible_to=[player, action.to], channel=Channel.DM,
                         sender=player, recipient=action.to, text=text,
                         **timing)  # type: ignore[return-value]

    async def _vote(self) -> None:
        st = self.state
        alive = list(st.alive)

        def options(voter: str) -> tuple[Option, ...]:
            opts: tuple[Option, ...] = rules.others(voter, st.alive)
            return opts + (ABSTAIN,) if self.rules.allow_abstain else opts

        votes: list[str | None] = []
        if self.rules.vote_reveal == "sequential":
            for voter in self.rng.sample(alive, len(alive)):
                answer = await self._ask_one(voter, DecisionKind.VOTE, options(voter))
                votes.append(self._cast(voter, answer))
        else:
            asks = [(v, DecisionKind.VOTE, options(v)) for v in alive]
            for voter, answer in zip(alive, await self._ask_many(asks)):
                votes.append(self._cast(voter, answer))
        counted = rules.tally(votes)
        out = rules.break_tie(counted, self.rules.tie_policy, self.rng)
        self.emit(VoteResult, tally=counted.counts, eliminated=out, tie=counted.tie)
        if out is None:
            return
        if self.rules.last_words:
            answer = await self._ask_one(out, DecisionKind.LAST_WORDS, ())
            text = self._speech(out, answer)
            if text:
                self.emit(LastWords, player=out, text=text)
        self._voted_out(out)

    def _cast(self, voter: str, answer: Answer) -> str | None:
        target = None if answer.choice == ABSTAIN else str(answer.choice)
        self.emit(VoteCast, voter=voter, target=target)
        return target

    # ---- asking players --------------------------------------------------------------------

    def _request(self, player: str, kind: DecisionKind, options: tuple[Option, ...]) -> Request:
        index = self.asked[player]
        self.asked[player] = index + 1
        return Request(kind=kind, player=player, options=options,
                       observation=observe(self.state, player, self.seen[player]),
                       max_chars=self.rules.max_message_chars, index=index, rules=self.rules)

    async def _collect(self, request: Request) -> Answer | _Failure:
        """Await one player; never raises (exceptions and timeouts become a _Failure)."""
        try:
            coro = self.players[request.player].act(request)
            answer = await asyncio.wait_for(coro, self.timeout_s)
        except asyncio.TimeoutError:
            return _Failure(f"no answer within {self.timeout_s} s")
        except NoAnswer as exc:  # the player says why, e.g. a person's own time limit
            return _Failure(str(exc))
        except Exception as exc:  # a player may fail in any way; the game goes on
            return _Failure(f"player raised {type(exc).__name__}: {exc}")
        if not isinstance(answer, Answer):
            return _Failure("not an Answer", answer)
        return answer

    async def _ask_one(self, player: str, kind: DecisionKind,
                       options: tuple[Option, ...]) -> Answer:
        return (await self._ask_many([(player, kind, options)]))[0]

    async def _ask_many(
        self, asks: Sequence[tuple[str, DecisionKind, tuple[Option, ...]]]
    ) -> list[Answer]:
        """Ask several players at once (all see the same state), then validate the answers in
        the order asked, so events and fallback draws do not depend on timing."""
        requests = [self._request(p, kind, opts) for p, kind, opts in asks]
        if not requests:
            return []
        self._waiting(frozenset(r.player for r in requests))
        outcomes = await asyncio.gather(*(self._collect(r) for r in requests))
        self._waiting(frozenset())
        return [self._settle(r, o) for r, o in zip(requests, outcomes)]

    def _waiting(self, who: frozenset[str]) -> None:
        if self.on_waiting is not None:
            self.on_waiting(who)

    def _settle(self, request: Request, outcome: Answer | _Failure) -> Answer:
        """Log model calls, check the answer against the legal options, fall back if needed."""
        p = request.player
        if isinstance(outcome, Answer):
            problem = _calls_problem(outcome.calls)
            for call in outcome.calls if problem is None else ():
                self.emit(ModelCall, visible_to=[p], player=p, decision=request.kind.value,
                          request=request.index, purpose=call.purpose, prompt_tokens=call.prompt_tokens,
                          reused_tokens=call.reused_tokens,
                          generated_tokens=call.generated_tokens, latency_ms=call.latency_ms,
                          prompt=call.prompt, shared_tokens=call.shared_tokens)
            problem = problem or self._problem(request, outcome)
            if problem is None:
                return outcome
            failure = _Failure(problem, outcome)
        else:
            failure = outcome
        fallback = self._fallback(request)
        got = "" if failure.got is None else repr(failure.got)
        self.emit(InvalidAction, visible_to=[p], player=p, decision=request.kind.value,
                  request=request.index, got=_printable(got, 200), error=_printable(failure.error, 300),
                  fallback=None if fallback.choice is None else str(fallback.choice))
        return fallback

    @staticmethod
    def _problem(request: Request, answer: Answer) -> str | None:
        if not isinstance(answer.text, str):
            return f"text is {type(answer.text).__name__}, not str"
        if request.options:
            if answer.choice not in request.options:
                return f"{answer.choice!r} is not a legal option"
        elif answer.choice is not None:
            return "a choice was given where only speech was asked for"
        return None

    def _fallback(self, request: Request) -> Answer:
        if not request.options:
            return Answer()  # silence
        if request.kind is DecisionKind.DAY_ACTION:
            return Answer(WAIT)
        if request.kind is DecisionKind.BID:
            return Answer(request.options[0])  # the lowest bid: not taking the floor
        if request.kind is DecisionKind.SHOOT:
            return Answer(ABSTAIN)  # a failed answer never fires the one shot
        legal = [o for o in request.options if o != ABSTAIN]
        return Answer(self.rng.choice(legal))

    def _speech(self, player: str, answer: Answer) -> str:
        return clean_speech(answer.text, player, self.names, self.rules.max_message_chars)


def _calls_problem(calls: object) -> str | None:
    """Model-call accounting must be well-formed before it goes into the transcript."""
    if not isinstance(calls, (tuple, list)):
        return "calls is not a sequence of CallInfo"
    for call in calls:
        if not isinstance(call, CallInfo) or call.purpose not in ("choice", "text"):
            return "malformed model-call accounting"
        counts = (call.prompt_tokens, call.reused_tokens, call.generated_tokens,
                  call.shared_tokens)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
            return "malformed model-call accounting"
        if not isinstance(call.latency_ms, (int, float)) or not (
            call.prompt is None or isinstance(call.prompt, str)
        ):
            return "malformed model-call accounting"
    return None


def _printable(text: str, limit: int) -> str:
    """Cut, and make safe to write as UTF-8 (lone surrogates become escapes)."""
    text = text[:limit]
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_LOOPS = threading.local()


def run_in_slots(games: int, slots: int, start: Callable[[int, int], Engine],
                 ended: Callable[[int], None] | None = None,
                 done: Callable[[int, GameResult], None] | None = None) -> list[GameResult]:
    """Run `games` games, `slots` at a time, on this thread's event loop (games in flight).
    `start(game, slot)` builds a game's engine: games 0..slots-1 before the loop runs, then
    whenever a slot's game ends, the next game not yet started, in that slot, so no slot idles
    while games remain. Which slot takes which game follows the order in which games end, a
    function of the games alone when their moves do not wait on wall time. `done(game,
    result)` is called as each game ends; `ended(slot)` when a slot has no game left, however
    it ends (both inside the loop)."""
    results: list[GameResult | None] = [None] * games
    first = [start(i, i) for i in range(min(slots, games))]
    queue = iter(range(len(first), games))  # shared by the slots: the next game to start

    async def slot(s: int) -> None:
        try:
            i, engine = s, first[s]
            while True:
                results[i] = result = await engine.run()
                if done is not None:
                    done(i, result)
                i = next(queue, -1)
                if i < 0:
                    return
                engine = start(i, s)
        finally:
            if ended is not None:
                ended(s)

    async def every() -> None:
        await asyncio.gather(*(slot(s) for s in range(len(first))))

    _run_on_loop(every())
    assert all(r is not None for r in results)  # every slot ran its games to the end
    return results  # type: ignore[return-value]


def run_game(engine: Engine) -> GameResult:
    """Run one game to the end on this thread's reusable event loop.

    Not `asyncio.run`: its Ctrl-C handling calls `repr()` on the running task tree (an
    enum lookup of the signal handler fails and formats it), which cost about 40% of a
    random-player game. Reusing one loop per thread is also cheaper for sweeps."""
    return _run_on_loop(engine.run())


def _run_on_loop(work: Any) -> Any:
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOOPS.loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    except BaseException:  # Ctrl-C or a crash: stop the players' tasks, leave no warnings
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:  # gather() of nothing would belong to another loop and mask the error
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        raise
