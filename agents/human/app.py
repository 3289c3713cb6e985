"""The full-screen app for a person at a terminal (Textual). The engine runs as a worker on
the app's own event loop; when it asks the human seat, `answer` shows the legal options and
awaits a future the person resolves, while the other seats go on thinking (model calls run in
threads, so the screen never freezes). Everything shown is built by a SeatView from the
events the seat may see, plus the seat's own requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, RichLog, Static

from mafia.decisions import Answer, Request
from mafia.engine import GameResult
from mafia.enums import Phase
from mafia.events import (
    BaseEvent, GameOver, GameStarted, InvestigationResult, PhaseStarted, PlayerDied,
    RoleAssigned,
)
from mafia.render import THEME

from mafia.agents.human.options import QUESTIONS, Choice, menu, speech_prompt
from mafia.agents.human.view import LOG, MAFIA, SeatView

CSS = """
#status { dock: top; height: 1; padding: 0 1; background: $panel; }
#main { height: 1fr; }
RichLog { scrollbar-gutter: stable; overflow-x: hidden; scrollbar-size-vertical: 1; }
#left { width: 2fr; }
#right { width: 1fr; min-width: 36; }
#log { height: 1fr; border: round $primary; }
#mafia { height: 12; border: round darkred; display: none; }
#mafia.-night { border: heavy red; }
#card, #players { height: auto; border: round $secondary; padding: 0 1; }
#dms { height: auto; max-height: 9; border: round $secondary; }
#dm { height: 1fr; border: round magenta; }
#decision { dock: bottom; height: auto; border: heavy $accent; padding: 0 1; }
#decision.-idle { border: round $panel-lighten-2; }
#choices { height: auto; max-height: 9; border: none; padding: 0; }
#counter { color: $text-muted; }
ModalScreen { align: center middle; }
#dialog { width: auto; max-width: 110; height: auto; border: thick $accent;
          background: $surface; padding: 1 2; }
"""


# Events that change the role card, the players or the DM list (the rest: the status line).
PANEL_EVENTS = (GameStarted, RoleAssigned, PhaseStarted, InvestigationResult, PlayerDied,
                GameOver)


class ChoiceList(OptionList):
    """The decision menu: arrows and Enter, or a choice's own key (1-9; a bid's 0-4)."""

    choices: list[Choice] = []

    def on_key(self, event: events.Key) -> None:
        keys = [c.key for c in self.choices]
        if event.character and event.character in keys:
            event.stop()
            self.highlighted = keys.index(event.character)
            self.action_select()


class Dialog(ModalScreen[bool]):
    """A message with yes/no keys (or just a key to close, when `ask` is False)."""

    BINDINGS = [Binding("y", "answer(True)", "yes"), Binding("n,escape", "answer(False)", "no"),
                Binding("enter,q", "close", "close", show=False)]

    def __init__(self, body: Any, ask: bool) -> None:
        super().__init__()
        self.body, self.ask = body, ask

    def compose(self) -> ComposeResult:
        yield Static(self.body, id="dialog")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_close(self) -> None:
        if not self.ask:
            self.dismiss(True)


class HumanApp(App[GameResult | None]):
    """Returns the game's result, or None when the person left before the end."""

    CSS = CSS
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "leave", "quit"),
        Binding("ctrl+c,ctrl+q", "leave", "quit", priority=True, show=False),
        Binding("escape", "back", "back to the menu"),
        Binding("tab", "focus_next", "next panel"),
        # The logs take no focus (Tab stays on menus), so paging is bound here; priority:
        # the menu would otherwise page itself.
        Binding("pageup", "scroll_chat(-1)", "scroll chat", priority=True),
        Binding("pagedown", "scroll_chat(1)", "", priority=True, show=False),
    ]

    def __init__(self, seat: str, transcript: Path, timeout_s: float | None = None) -> None:
        super().__init__()
        self.console.push_theme(THEME)  # the live view's styles, for its renderings
        self.view = SeatView(seat)
        self.transcript = transcript
        self.timeout_s = timeout_s
        self.game: Callable[[], Awaitable[GameResult]] | None = None
        self.result: GameResult | None = None
        self.error: Exception | None = None  # the engine failed: re-raised after the app
        self.request: Request | None = None
        self.choices: list[Choice] = []
        self.chosen: Choice | None = None
        self.future: asyncio.Future[Answer] | None = None
        self.deadline: float | None = None
        self.thinking = ""
        self.status = Text()
        self.partner: str | None = None  # whose DM conversation is open
        self.title = f"Mafia: {seat}"

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield RichLog(id="log", wrap=True, min_width=20)
                yield RichLog(id="mafia", wrap=True, min_width=20)
            with Vertical(id="right"):
                yield Static(id="card")
                yield Static(id="players")
                yield OptionList(id="dms")
                yield RichLog(id="dm", wrap=True, min_width=20)
        with Vertical(id="decision"):
            yield Static(id="question")
            yield ChoiceList(id="choices")
            yield Input(id="speech")
            yield Static(id="counter")
        yield Footer()

    def on_mount(self) -> None:
        for log in self.query(RichLog):
            log.can_focus = False  # Tab moves between the menu and the DM list only
        self.query_one("#log").border_title = "Public chat and what you saw"
        self.query_one("#mafia").border_title = "Mafia channel"
        self.query_one("#card").border_title = "Your role"
        self.query_one("#players").border_title = "Players"
        self.query_one("#dms").border_title = "DMs (Tab, Enter to open)"
        self.query_one("#dm").border_title = "DM"
        self._idle()
        self._refresh()
        self.set_interval(1.0, self._refresh_status)
        if self.game is not None:
            self.run_worker(self._play(self.game), name="game", exclusive=True)

    async def _play(self, game: Callable[[], Awaitable[GameResult]]) -> None:
        try:
            self.result = await game()
        except Exception as exc:  # shown after the app is gone, where it can be read
            self.error = exc
            self.exit(None)
            return
        summary = self.view.renderer.summary(self.result.events[-1])  # type: ignore[arg-type]
        where = Text(f"\nTranscript: {self.transcript}\nPress Enter or q to leave.")
        self.push_screen(Dialog(Group(summary, where), ask=False),
                         lambda _: self.exit(self.result))

    # ---- the front end: events, waiting, requests -----------------------------------------

    def show(self, event: BaseEvent) -> None:
        routed = self.view.add(event)
        if routed is not None:
            pane, shown = routed
            if pane == LOG:
                self.query_one("#log", RichLog).write(shown, expand=True)
            elif pane == MAFIA:
                self.query_one("#mafia", RichLog).write(shown, expand=True)
            elif self.partner in (None, pane):
                self._open(pane)
            else:
                self._refresh_dms()  # an unread mark
        if isinstance(event, GameOver):
            self.thinking = ""
        if isinstance(event, PANEL_EVENTS):
            self._refresh()
        else:
            self._refresh_status()

    def waiting(self, who: frozenset[str]) -> None:
        self.thinking = self.view.thinking(who)
        self._refresh_status()

    async def answer(self, request: Request) -> Answer:
        loop = asyncio.get_running_loop()
        self.future = loop.create_future()
        self.request, self.choices, self.chosen = request, menu(request), None
        self.deadline = None if self.timeout_s is None else loop.time() + self.timeout_s
        if request.options:
            self._menu()
        else:
            self._speech(None)
        self.bell()
        self._refresh_status()
        try:
            return await self.future
        finally:
            self.future = self.request = self.deadline = None
            self._idle()
            self._refresh_status()

    # ---- the decision panel ---------------------------------------------------------------

    def _menu(self) -> None:
        assert self.request is not None
        self.chosen = None
        keys = "0-4" if self.choices[0].key == "0" else f"1-{min(len(self.choices), 9)}"
        self._question(f"{QUESTIONS[self.request.kind]}   (↑↓ Enter, or keys {keys})")
        menu_ = self.query_one("#choices", ChoiceList)
        menu_.choices = self.choices
        menu_.set_options([f"{c.key}  {c.label}" for c in self.choices])
        menu_.highlighted = 0
        self._panel(menu=True, text=False)
        menu_.focus()
        self.refresh_bindings()

    def _speech(self, to: str | None) -> None:
        assert self.request is not None
        if to is None:  # speech alone: the question says where it goes
            ask = (f"{QUESTIONS[self.request.kind]} (at most {self.request.max_chars} "
                   "characters; empty: say nothing)")
        else:
            ask = f"Your message: {speech_prompt(self.request, to)}   (Esc: back to the menu)"
        self._question(ask)
        box = self.query_one("#speech", Input)
        box.max_length = self.request.max_chars
        box.value = ""
        box.placeholder = "type, then Enter"
        self._counter(0)
        self._panel(menu=False, text=True)
        box.focus()
        self.refresh_bindings()

    def _idle(self) -> None:
        dead = self.view.seat in self.view.deaths
        self._question("You are dead: you watch the rest of the game." if dead else
                       "Nothing to decide now. Tab moves between panels; q quits.")
        self._panel(menu=False, text=False)

    def _panel(self, menu: bool, text: bool) -> None:
        self.query_one("#choices").display = menu
        self.query_one("#speech").display = text
        self.query_one("#counter").display = text
        self.query_one("#decision").set_class(not (menu or text), "-idle")

    def _question(self, text: str) -> None:
        self.query_one("#question", Static).update(Text(text, style="bold"))

    def _counter(self, n: int) -> None:
        assert self.request is not None
        self.query_one("#counter", Static).update(f"{n}/{self.request.max_chars} characters")

    def _resolve(self, answer: Answer) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_result(answer)

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        if message.option_list.id == "dms":
            self._open(self.view.seats_others()[message.option_index])
            return
        if self.request is None:
            return
        choice = self.choices[message.option_index]
        if choice.speech is None:
            self._resolve(Answer(choice.option))
            return
        self.chosen = choice
        if choice.speech != "everyone":
            self._open(choice.speech)
        self._speech(choice.speech)

    def on_input_changed(self, message: Input.Changed) -> None:
        if self.request is not None:
            self._counter(len(message.value))

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        if self.request is None:
            return
        option = None if self.chosen is None else self.chosen.option
        self._resolve(Answer(option, message.value.strip()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":  # only a day action's message has a menu to go back to
            return self.request is not None and self.chosen is not None
        return True

    def action_back(self) -> None:
        if self.request is not None and self.chosen is not None:
            self._menu()

    def action_scroll_chat(self, direction: int) -> None:
        """Page the public chat. Scrolled up, it stays put while messages arrive; back at
        the bottom, it follows them again."""
        log = self.query_one("#log", RichLog)
        if direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)
        log.auto_scroll = log.scroll_y >= log.max_scroll_y

    def action_leave(self) -> None:
        if self.result is not None:
            self.exit(self.result)
            return
        if isinstance(self.screen, Dialog):
            return
        body = Text(f"Leave the game? It stops here; the transcript so far stays at\n"
                    f"{self.transcript}\n\ny: leave   n: keep playing")
        self.push_screen(Dialog(body, ask=True), lambda yes: self.exit(None) if yes else None)

    # ---- DMs and the side panels -----------------------------------------------------------

    def _open(self, partner: str) -> None:
        """Show the DM conversation with `partner` (its messages count as read)."""
        self.partner = partner
        self.view.unread[partner] = 0
        box = self.query_one("#dm", RichLog)
        box.clear()
        box.border_title = f"DM with {partner}"
        for shown in self.view.dms.get(partner, []):
            box.write(shown, expand=True)
        self._refresh_dms()

    def _refresh_dms(self) -> None:
        dms = self.query_one("#dms", OptionList)
        keep = dms.highlighted
        rows = []
        for p in self.view.seats_others():
            row = Text(("☠ " if p in self.view.deaths else "") + p)
            if self.view.unread[p]:
                row.append(f"  ● {self.view.unread[p]} new", style="bold magenta")
            if p == self.partner:
                row.append("  (open)", style="muted")
            rows.append(row)
        dms.set_options(rows)
        if keep is not None and rows:
            dms.highlighted = min(keep, len(rows) - 1)

    def _refresh(self) -> None:
        self.query_one("#card", Static).update(self.view.card())
        self.query_one("#players", Static).update(self.view.players())
        mafia = self.query_one("#mafia", RichLog)
        mafia.display = self.view.mafia
        mafia.set_class(self.view.phase is Phase.NIGHT, "-night")
        self._refresh_dms()
        self._refresh_status()

    def _refresh_status(self) -> None:
        parts = [Text(self.view.seat, style="bold"), Text(self.view.heading())]
        if self.request is not None:
            move = Text("your move", style="bold reverse")
            if self.deadline is not None:
                left = max(0, round(self.deadline - asyncio.get_running_loop().time()))
                move.append(f" ({left} s left)")
            parts.append(move)
        elif self.view.phase is Phase.NIGHT:
            parts.append(Text("the town sleeps", style="phase.night"))
        elif self.thinking:
            parts.append(Text(self.thinking, style="muted"))
        unread = sum(self.view.unread.values())
        if unread:
            parts.append(Text(f"{unread} new DM{'s' if unread > 1 else ''}",
                              style="bold magenta"))
        if self.view.over is not None:
            parts.append(Text(f"transcript: {self.transcript}"))
        status = Text(" · ").join(parts)
        if status != self.status:  # the clock ticks every second; redraw only on a change
            self.status = status
            self.query_one("#status", Static).update(status)
