"""`cmd:COMMAND` seats: a separate process per seat, spoken to in JSON lines (see wire.py).

The process starts at the seat's first request and answers one line per request, in order.
Whatever goes wrong costs only that decision: the player raises, and the engine logs an
invalid_action and uses its seeded fallback. A process that fails MAX_STRIKES times in a
row, or exits, is replaced; once MAX_PROCESSES processes have been used up the seat gives
up and every later decision is the engine's fallback, so a broken bot never stalls a game.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
from pathlib import Path
from typing import Any, NoReturn

from mafia.config import SEAT_NAMES
from mafia.decisions import Answer, Request
from mafia.errors import MafiaError

from mafia.agents.program.wire import EventCache, WireError, decode_answer, encode_request

MAX_STRIKES = 3  # failed decisions in a row before the process is replaced
MAX_PROCESSES = 3  # processes a seat may use up (the first and two restarts)
LINE_LIMIT = 1 << 20  # longest answer line read, in bytes
CLOSE_GRACE_S = 1.0  # at game end: time to exit after stdin closes, then after SIGTERM


class ProgramError(RuntimeError):
    """One decision the program did not answer usefully (the engine falls back)."""


def parse_command(spec: str) -> list[str]:
    """`cmd:COMMAND` -> argv, checked now so that a typo is one error line, not a game of
    fallbacks."""
    try:
        argv = shlex.split(spec[len("cmd:"):])
    except ValueError as exc:
        raise MafiaError(f"{spec}: cannot split the command: {exc}") from None
    if not argv:
        raise MafiaError(f"{spec}: no command given, e.g. cmd:\"python3 bot.py\"")
    program = argv[0]
    found = shutil.which(program) if os.sep not in program else (
        program if os.access(program, os.X_OK) and Path(program).is_file() else None)
    if found is None:
        raise MafiaError(f"{spec}: program not found or not executable: {program}")
    return argv


class SubprocessPlayer:
    def __init__(self, spec: str, argv: list[str], *, seed: int, seat: int,
                 timeout_s: float, log_path: str | None = None) -> None:
        self.spec, self.argv = spec, argv
        self.seed, self.seat, self.timeout_s = seed, seat, timeout_s
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.owed = 0  # answers the process still owes for requests that timed out
        self.strikes = 0  # failed decisions in a row with the current process
        self.used = 0  # processes used up (replaced)
        self.gave_up: str | None = None  # why the seat stopped asking its program
        self.pids: list[int] = []  # every process started, for the record and the tests
        self.sent = False  # whether the current request reached the process's input
        self.events = EventCache()

    def describe(self) -> dict[str, Any]:
        return {"kind": "program", "spec": self.spec, "command": list(self.argv)}

    async def act(self, request: Request) -> Answer:
        if self.gave_up is not None:
            raise ProgramError(f"gave up on the program: {self.gave_up}")
        line = encode_request(request, seed=self.seed, seat=self.seat,
                              timeout_s=self.timeout_s, events=self.events)
        self.sent = False
        try:
            reply = await asyncio.wait_for(self._exchange(line), self.timeout_s)
        except asyncio.TimeoutError:
            self.owed += int(self.sent)
            await self._fail(f"no answer within {self.timeout_s:g} s")
        except asyncio.CancelledError:  # the engine's own --timeout, or Ctrl-C
            self.owed += int(self.sent)
            raise
        except (OSError, EOFError, ValueError) as exc:  # exited, would not start, huge line
            proc = self.proc
            await self._stop(grace_s=0.1)  # reaped, so that its exit status is known
            await self._fail(_died(exc, proc), replace=True)
        try:
            answer = decode_answer(reply, request)
        except WireError as exc:
            await self._fail(str(exc))
        self.strikes = 0
        return answer

    async def _exchange(self, line: bytes) -> bytes:
        proc = self.proc or await self._start()
        assert proc.stdin is not None
        proc.stdin.write(line)
        self.sent = True  # queued whole: the process owes an answer from here on
        await proc.stdin.drain()
        while self.owed:  # late answers to requests that timed out: stale, skipped
            await _read_line(proc)
            self.owed -= 1
        return await _read_line(proc)

    async def _start(self) -> asyncio.subprocess.Process:
        env = {**os.environ, "MAFIA_SEED": str(self.seed), "MAFIA_SEAT": str(self.seat),
               "MAFIA_PLAYER": SEAT_NAMES[self.seat]}
        env.setdefault("PYTHONUNBUFFERED", "1")  # Python bots answer without flushing
        log = open(self.log_path, "ab") if self.log_path else None
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=log if log is not None else asyncio.subprocess.DEVNULL,
                env=env, limit=LINE_LIMIT)
        finally:
            if log is not None:
                log.close()  # the child holds its own copy
        self.pids.append(self.proc.pid)
        self.owed = 0
        return self.proc

    async def _fail(self, reason: str, *, replace: bool = False) -> NoReturn:
        self.strikes += 1
        if replace or self.strikes >= MAX_STRIKES:
            await self._stop(grace_s=0)
            self.strikes, self.used = 0, self.used + 1
            if self.used >= MAX_PROCESSES:
                self.gave_up = f"{MAX_PROCESSES} processes failed (last: {reason})"
        raise ProgramError(reason)

    async def _stop(self, grace_s: float) -> None:
        """End the process: EOF on its stdin, then SIGTERM, then SIGKILL; always reaped."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # a well-behaved bot exits when its input ends
        for ending in ("terminate", "kill"):
            try:
                await asyncio.wait_for(proc.wait(), grace_s)
                return
            except asyncio.TimeoutError:
                pass
            try:
                getattr(proc, ending)()
            except ProcessLookupError:
                pass
        await proc.wait()

    async def aclose(self) -> None:
        """Called by the engine when the game ends (also on Ctrl-C): no process outlives it."""
        await self._stop(grace_s=CLOSE_GRACE_S)
        self.events.clear()


async def _read_line(proc: asyncio.subprocess.Process) -> bytes:
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    if not line.endswith(b"\n"):
        raise EOFError("the program closed its output")
    return line


def _died(exc: BaseException, proc: asyncio.subprocess.Process | None) -> str:
    if isinstance(exc, ValueError):
        return f"answer line longer than {LINE_LIMIT} bytes"
    status = "" if proc is None or proc.returncode is None else f" (exit status {proc.returncode})"
    if isinstance(exc, EOFError):
        return f"the program exited{status}"
    return f"the program failed{status}: {type(exc).__name__}: {exc}"
