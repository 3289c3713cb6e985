"""A scripted player for tests: answers from a queue and raises when the queue runs out."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Union

from mafia.decisions import Answer, Request

Step = Union[Answer, Callable[[Request], Any], BaseException]


class ScriptExhausted(RuntimeError):
    pass


class ScriptedPlayer:
    """Each step is an Answer, a function of the request (its return value is the answer,
    whatever its type, so tests can feed malformed answers), or an exception to raise."""

    def __init__(self, steps: Iterable[Step] = (), name: str = "scripted") -> None:
        self.steps: deque[Step] = deque(steps)
        self.name = name
        self.requests: list[Request] = []

    def describe(self) -> dict[str, Any]:
        return {"kind": "scripted", "spec": "scripted", "name": self.name}

    async def act(self, request: Request) -> Any:
        self.requests.append(request)
        if not self.steps:
            raise ScriptExhausted(f"{self.name}: no scripted answer for {request.kind}")
        step = self.steps.popleft()
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return step(request)
        return step
