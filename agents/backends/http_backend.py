"""A seat served by an OpenAI-compatible HTTP endpoint (llama.cpp's `llama-server`, or
`python -m llama_cpp.server`), e.g. on a GPU host. Uses /v1/completions with our own prompt
text; choices are constrained with a GBNF grammar listing only the legal options."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from mafia.errors import MafiaError

from agents.backends.base import Choice, Completion
from agents.registry import ResolvedModel

_CHARS_PER_TOKEN = 3  # conservative estimate; the server does not tell us its tokenisation


def _gbnf_literal(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid GBNF literal


def options_grammar(options: Sequence[str]) -> str:
    return "root ::= " + " | ".join(_gbnf_literal(o) for o in options)


class HttpBackend:
    def __init__(self, endpoint: str, spec: str, model: ResolvedModel | None, *,
                 n_ctx: int = 4096, timeout_s: float = 600.0) -> None:
        self.url = endpoint.rstrip("/") + "/completions"
        self.endpoint = endpoint
        self.spec = spec
        self.model = model
        self.chat_template = model.chat_template if model else None
        self.n_ctx = n_ctx
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()

    def describe(self) -> dict[str, Any]:
        local = self.model.describe() if self.model else {"model": self.spec, "path": None,
                                                           "sha256": None, "quantization": None}
        return {**local, "endpoint": self.endpoint}

    def reset(self) -> None:
        pass  # the server keeps its own cache

    def count_tokens(self, text: str) -> int:
        return len(text) // _CHARS_PER_TOKEN + 1

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode(errors="replace")
            raise MafiaError(f"endpoint {self.url} answered {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise MafiaError(f"cannot reach endpoint {self.url}: {exc}") from None

    async def _call(self, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        async with self._lock:
            start = time.perf_counter()
            data = await asyncio.to_thread(self._post, body)
            return data, (time.perf_counter() - start) * 1000

    async def complete(self, prompt: str, *, seed: int, max_tokens: int,
                       stop: Sequence[str], temperature: float) -> Completion:
        data, ms = await self._call({"prompt": prompt, "max_tokens": max_tokens,
                                     "stop": list(stop), "seed": seed,
                                     "temperature": temperature, "top_p": 0.95})
        usage = data.get("usage") or {}
        return Completion(text=str(data["choices"][0]["text"]),
                          prompt_tokens=int(usage.get("prompt_tokens", 0)), reused_tokens=0,
                          generated_tokens=int(usage.get("completion_tokens", 0)),
                          latency_ms=ms)

    async def choose(self, prompt: str, options: Sequence[str], *, seed: int,
                     temperature: float) -> Choice:
        longest = max(len(o) for o in options)
        data, ms = await self._call({"prompt": prompt, "max_tokens": longest + 4,
                                     "grammar": options_grammar(options), "seed": seed,
                                     "temperature": temperature})
        text = str(data["choices"][0]["text"])
        usage = data.get("usage") or {}
        index = _match(text, options)
        return Choice(index=index, prompt_tokens=int(usage.get("prompt_tokens", 0)),
                      reused_tokens=0,
                      generated_tokens=int(usage.get("completion_tokens", 0)), latency_ms=ms)


def check_endpoint(endpoint: str, timeout_s: float = 10.0) -> None:
    """Fail early, with one clear line, when the server is not there."""
    url = endpoint.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise MafiaError(f"cannot reach endpoint {endpoint} ({url}: {exc})") from None


def _match(text: str, options: Sequence[str]) -> int:
    """Index of the option the server produced; -1 if it ignored the grammar."""
    for i, option in enumerate(options):
        if text == option:
            return i
    stripped = text.strip().lower()
    for i, option in enumerate(options):
        if stripped == option.strip().lower():
            return i
    return -1
