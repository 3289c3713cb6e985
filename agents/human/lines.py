"""The line mode: the human seat through plain lines, for a pipe, a script or a screen reader.

What the seat sees is printed as it happens, one line per thing (no tables or boxes). Each
decision prints one line starting with `? `, naming the decision and its numbered options
(`? vote: 1 Bob, 2 Carol`), then reads one line: a number, an option's text, or the message.
A bad answer is asked again once, then the engine's fallback applies. At the end of input
every later decision falls back at once, so a closed pipe never hangs the game."""

from __future__ import annotations

import asyncio
import threading
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.text import Text

from mafia.decisions import Answer, NoAnswer, Request
from mafia.events import (
    BaseEvent, GameOver, GameStarted, PhaseStarted, RoleAssigned, VoteResult,
)
from mafia.render import THEME, Renderer, View, discussion_label

from mafia.agents import role_text
from mafia.agents.human.options import Choice, match, menu, speech_prompt


class LineRenderer(Renderer):
    """The live view's renderer with its boxed parts (header, vote table, summary) as lines."""

    def _game_started(self, e: GameStarted) -> RenderableType:
        super()._game_started(e)  # colours and agents
        c = e.config
        counts = ", ".join(f"{n} {r}" for r, n in c["roles"].items() if n)
        names = ", ".join(str(p["name"]) for p in e.players)
        return Group(Text(f"Mafia, seen by {self.view.seat}: seed {e.seed}, {c['players']} "
                          f"players ({counts}), {discussion_label(c)}."),
                     Text(f"Seats: {names}."))

    def _role_assigned(self, e: RoleAssigned) -> RenderableType | None:
        shown = super()._role_assigned(e)
        about = role_text.text(e.role, "person")  # what an optional role may do
        if isinstance(shown, Text) and about:
            shown.append(f"\n{about}")
        return shown

    def _phase_started(self, e: PhaseStarted) -> RenderableType:
        shown = Text(f"== {e.phase.value.title()} {e.day} ==", style=f"phase.{e.phase.value}")
        living = [p for p in e.order if p not in self.died]
        if living:  # the round's public order: the heuristic's tie-break, in plain seats' prompts
            shown.append(f" Order: {', '.join(living)}.")
        return shown

    def _vote_result(self, e: VoteResult) -> RenderableType:
        votes = "; ".join(f"{v.voter} votes {v.target or 'abstain'}" for v in self.votes)
        super()._vote_result(e)  # keeps the vote history, clears today's votes
        tally = ", ".join(f"{k} {n}" for k, n in sorted(e.tally.items(), key=lambda kv: -kv[1]))
        out = f"{e.eliminated} is eliminated" if e.eliminated else "nobody is eliminated"
        if e.tie:
            out += " (tie broken at random)" if e.eliminated else " (tie)"
        return Text(f"Day {e.day} vote: {votes or 'no votes'}. Tally: {tally or 'none'}. {out}.",
                    style="bold")

    def summary(self, e: GameOver) -> RenderableType:
        word = "draw" if e.winner.value == "draw" else f"{e.winner.value} wins"
        lines = [Text(f"Game over: {word} after {e.days} day(s): {e.reason}.", style="winner")]
        for player, role in e.roles.items():
            lines.append(Text(f"  {player}: {role}, {self.agents.get(player, '?')}, "
                              f"{self.died.get(player, 'survived')}"))
        return Group(*lines)


class StdinLines:
    """Lines from a stream, read by a daemon thread so the event loop never blocks on input
    and a thread still waiting on an open pipe never holds up the exit. None means EOF."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.queue: asyncio.Queue[str | None] | None = None

    async def get(self) -> str | None:
        if self.queue is None:
            self.queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._read, args=(loop, self.queue), daemon=True,
                             name="human-stdin").start()
        return await self.queue.get()

    def _read(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        while True:
            try:
                line: str | None = self.stream.readline()
            except (OSError, ValueError):
                line = ""
            line = line.rstrip("\r\n") if line else None
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the loop is closed: the game is over
                return
            if line is None:
                return


class LineFrontEnd:
    def __init__(self, seat: str, lines: StdinLines, out: TextIO) -> None:
        self.seat = seat
        self.lines = lines
        self.console = Console(file=out, theme=THEME, highlight=False, soft_wrap=True)
        self.renderer = LineRenderer(View(seat=seat))
        self.closed = False

    def show(self, event: BaseEvent) -> None:
        shown = self.renderer.render(event)
        if shown is not None:
            self.console.print(shown)
        self.console.file.flush()

    def say(self, line: str) -> None:
        self.console.print(line, markup=False)
        self.console.file.flush()

    def waiting(self, who: frozenset[str]) -> None:
        pass  # lines stay quiet while others think: nothing to give away, nothing to read

    async def answer(self, request: Request) -> Answer:
        kind = request.kind.value
        if not request.options:
            return Answer(None, await self._speech(f"? {kind}", request, None))
        choices = menu(request)
        listed = ", ".join(f"{c.key} {c.label}" for c in choices)
        choice = await self._pick(f"? {kind}: {listed}", choices)
        if not isinstance(choice, Choice):
            return Answer(choice)  # asked twice, still no option: the engine falls back
        text = ""
        if choice.speech is not None:
            text = await self._speech("? say", request, choice.speech)
        return Answer(choice.option, text)

    async def _read(self, question: str) -> str:
        if self.closed:
            raise NoAnswer("standard input closed (human)")
        self.say(question)
        line = await self.lines.get()
        if line is None:
            self.closed = True
            self.say(f"(input closed: the engine decides for {self.seat} from now on)")
            raise NoAnswer("standard input closed (human)")
        return line

    async def _pick(self, question: str, choices: list[Choice]) -> Choice | str:
        said = await self._read(question)
        found = match(said, choices)
        if found is None:
            self.say(f"  {said!r} is not one of the options: answer with a number or an "
                     "option's text")
            said = await self._read(question)
            found = match(said, choices)
        if found is None:
            self.say("  not an option again: the engine decides")
            return said
        return found

    async def _speech(self, ask: str, request: Request, to: str | None) -> str:
        question = f"{ask}: ({speech_prompt(request, to)})"
        text = (await self._read(question)).strip()
        if len(text) > request.max_chars:
            self.say(f"  {len(text)} characters is over the {request.max_chars} allowed: say "
                     "it again shorter (a second long one is cut)")
            text = (await self._read(question)).strip()
        return text
