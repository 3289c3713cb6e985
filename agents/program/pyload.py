"""`py:MODULE:FACTORY` seats, and names registered in the `mafia.agents` entry-point group.

The factory (a class or any callable) is called once per seat as `factory(seed=..., seat=...)`
and returns an object with `act(request) -> Answer` (async, or a plain function) and,
optionally, `describe() -> dict` and `async aclose()`. It gets the real `Request` and
returns a real `Answer`, validated by the engine like any player's. Every way loading can go
wrong is a MafiaError: one line for the user, no traceback.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any

from mafia.decisions import Answer, Request
from mafia.errors import MafiaError

GROUP = "mafia.agents"  # [project.entry-points."mafia.agents"] mybot = "mybots:Bot"


def entry_point(name: str) -> metadata.EntryPoint | None:
    """The installed entry point registered as `name`, if any."""
    found = [ep for ep in metadata.entry_points(group=GROUP) if ep.name == name]
    return found[0] if found else None


def load_target(spec: str) -> tuple[Callable[..., Any], str]:
    """The factory a spec names, and its `module:attr` path."""
    if not spec.startswith("py:"):
        ep = entry_point(spec)
        if ep is None:
            raise MafiaError(f"{spec}: no entry point of that name in group {GROUP}")
        try:
            target = ep.load()
        except Exception as exc:  # user code: any failure is the user's to fix
            raise MafiaError(f"{spec}: loading entry point {ep.value} failed: {_why(exc)}") from None
        return _callable(spec, target, ep.value), ep.value
    path = spec[len("py:"):]
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise MafiaError(f"{spec}: expected py:MODULE:FACTORY, e.g. py:mybot:Bot")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: modules next to you import
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise MafiaError(f"{spec}: no module named {exc.name!r}") from None
        raise MafiaError(f"{spec}: importing {module_name} failed: {_why(exc)}") from None
    except Exception as exc:
        raise MafiaError(f"{spec}: importing {module_name} failed: {_why(exc)}") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            raise MafiaError(f"{spec}: {module_name} has no attribute {attr!r}")
        target = getattr(target, part)
    return _callable(spec, target, path), path


def _callable(spec: str, target: Any, path: str) -> Callable[..., Any]:
    if not callable(target):
        raise MafiaError(f"{spec}: {path} is not callable (give a class or a factory function)")
    return target  # type: ignore[no-any-return]


class PyProgramPlayer:
    """A loaded program, as the engine sees it: `act` always awaitable, and a header entry
    `{kind: "program", spec, factory[, info]}` (info: the program's own `describe()`)."""

    def __init__(self, spec: str, path: str, inner: Any, info: dict[str, Any] | None) -> None:
        self.spec, self.path, self.inner, self.info = spec, path, inner, info

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "program", "spec": self.spec, "factory": self.path}
        if self.info is not None:
            out["info"] = self.info
        return out

    async def act(self, request: Request) -> Answer:
        answer = self.inner.act(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer  # type: ignore[no-any-return]  # the engine checks what it is

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            done = close()
            if inspect.isawaitable(done):
                await done


def build_py_player(spec: str, seed: int, seat: int) -> PyProgramPlayer:
    factory, path = load_target(spec)
    try:
        inner = factory(seed=seed, seat=seat)
    except Exception as exc:
        raise MafiaError(f"{spec}: {path}(seed={seed}, seat={seat}) raised {_why(exc)}") from None
    if not callable(getattr(inner, "act", None)):
        raise MafiaError(f"{spec}: {path}(...) returned {type(inner).__name__}, "
                         "which has no act(request) method")
    return PyProgramPlayer(spec, path, inner, _info(spec, inner))


def _info(spec: str, inner: Any) -> dict[str, Any] | None:
    """The program's `describe()`, checked now: it goes into the transcript header."""
    describe = getattr(inner, "describe", None)
    if describe is None:
        return None
    try:
        info = describe()
        json.dumps(info)
    except Exception as exc:
        raise MafiaError(f"{spec}: describe() failed: {_why(exc)}") from None
    if not isinstance(info, dict):
        raise MafiaError(f"{spec}: describe() must return a dict, got {type(info).__name__}")
    return info


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
