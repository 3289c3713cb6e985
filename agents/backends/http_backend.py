"""A seat served by an OpenAI-compatible HTTP endpoint (`python -m llama_cpp.server`, vLLM,
llama.cpp's `llama-server`), e.g. on a GPU host. Uses /v1/completions with our own prompt
text, and names the model in every request, so one server may serve several.

Choices are scored as in-process: each option's log-probability after the prompt, read from
the server's echoed prompt log-probabilities (`echo` with `logprobs`), then drawn with the
same seeded pick; calibration and the prompt profile apply unchanged, so an endpoint seat
plays the same algorithm as a local one. A server that does not return them (probed once per
server and model) gets grammar-constrained choices instead: a GBNF grammar listing only the
legal options, sampled by the server. The header records which (`choice_method`)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

import numpy as np

from mafia.errors import MafiaError

from mafia.agents.backends.base import Choice, Completion
from mafia.agents.backends.sampling import pick
from mafia.agents.registry import ResolvedModel

_CHARS_PER_TOKEN = 3  # conservative estimate; the server does not tell us its tokenisation


def _gbnf_literal(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid GBNF literal


def options_grammar(options: Sequence[str]) -> str:
    return "root ::= " + " | ".join(_gbnf_literal(o) for o in options)


_METHODS: dict[tuple[str, str], str] = {}  # (url, model) -> "logprobs" | "grammar"
# Counting is predictable: a model's echoed log-probabilities of its second half average
# near 0 when they are the tokens' own, and far below when shifted by one position (each
# number scored as if it followed itself).
PROBE = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16"
PROBE_MIN_MEAN = -2.0


class EndpointRefused(MafiaError):
    """The server answered with an HTTP error (it is there, but refused the request)."""


class HttpBackend:
    def __init__(self, endpoint: str, spec: str, model: ResolvedModel | None, *,
                 n_ctx: int = 4096, timeout_s: float = 600.0, name: str | None = None) -> None:
        self.url = endpoint.rstrip("/") + "/completions"
        self.endpoint = endpoint
        self.spec = spec
        self.name = name or spec  # the model name the server knows it by
        self.model = model
        self.chat_template = model.chat_template if model else None
        self.n_ctx = n_ctx
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self.choice_method = self._probe()

    def describe(self) -> dict[str, Any]:
        local = self.model.describe() if self.model else {"model": self.spec, "path": None,
                                                           "sha256": None, "quantization": None}
        return {**local, "endpoint": self.endpoint, "served_as": self.name,
                "choice_method": self.choice_method}

    def _probe(self) -> str:
        """Can this server score options? Asked once per server and model: it must echo
        prompt log-probabilities, and they must belong to the tokens they are reported for.
        (llama-cpp-python's server reports each token's value one position late for models
        that add no BOS token, e.g. SmolLM2; that shows as counting looking unpredictable.)"""
        key = (self.url, self.name)
        if key not in _METHODS:
            try:
                data = self._post({"prompt": PROBE, "max_tokens": 1, "temperature": 0.0,
                                   "echo": True, "logprobs": 1})
            except EndpointRefused:  # e.g. llama-cpp-python without logits_all
                data = {}
            echoed = _echoed(data, PROBE)
            later = [v for o, v in (echoed or []) if o >= len(PROBE) // 2 and v is not None]
            aligned = bool(later) and sum(later) / len(later) > PROBE_MIN_MEAN
            _METHODS[key] = "logprobs" if aligned else "grammar"
        return _METHODS[key]

    def reset(self) -> None:
        pass  # the server keeps its own cache

    def count_tokens(self, text: str) -> int:
        return len(text) // _CHARS_PER_TOKEN + 1

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {"model": self.name, **body}
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode(errors="replace")
            raise EndpointRefused(f"endpoint {self.url} answered {exc.code}: {detail}") from None
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
        if self.choice_method == "logprobs":
            return await self._score(prompt, options, seed, temperature)
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

    async def _score(self, prompt: str, options: Sequence[str], seed: int,
                     temperature: float) -> Choice:
        """Each option's log-probability after the prompt, from one echoed request per
        option, then the in-process seeded pick."""
        scores, prompt_tokens, ms = [], 0, 0.0
        for option in options:
            data, took = await self._call({"prompt": prompt + option, "max_tokens": 1,
                                           "temperature": 0.0, "echo": True, "logprobs": 1})
            ms += took
            echoed = _echoed(data, prompt + option)
            if echoed is None:
                raise MafiaError(f"endpoint {self.url} stopped returning prompt "
                                 "log-probabilities")
            scores.append(_option_logprob(echoed, len(prompt), len(prompt + option)))
            prompt_tokens = max(prompt_tokens, int((data.get("usage") or {}).get(
                "prompt_tokens", 0)))
        index = pick(np.array(scores), temperature, seed)
        return Choice(index=index, prompt_tokens=prompt_tokens, reused_tokens=0,
                      generated_tokens=0, latency_ms=ms, logprobs=tuple(scores))


def _echoed(data: dict[str, Any], text: str) -> list[tuple[int, float | None]] | None:
    """(character offset, log-probability) of each echoed prompt token of `text`, or None
    when the answer holds no prompt log-probabilities (the server cannot echo them)."""
    try:
        lp = data["choices"][0]["logprobs"]
        offsets, values = lp["text_offset"], lp["token_logprobs"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(offsets, list) or not isinstance(values, list):
        return None
    pairs = [(int(o), None if v is None else float(v)) for o, v in zip(offsets, values)
             if int(o) < len(text)]
    if len(pairs) < 2 or all(v is None for _, v in pairs[1:]):
        return None
    return pairs


def _option_logprob(echoed: list[tuple[int, float | None]], start: int, end: int) -> float:
    """The summed log-probability of the tokens covering text[start:end] (a token that
    straddles the prompt's end counts: the option changed it, as in-process)."""
    total = 0.0
    for i, (offset, value) in enumerate(echoed):
        stop = echoed[i + 1][0] if i + 1 < len(echoed) else end
        if stop > start and offset < end:
            total += value if value is not None else -1e9
    return total


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
