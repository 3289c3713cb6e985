"""Model seats: each spec's model resolved once, and each seat's backend (a handle on the
model's shared batched context, or a backend of its own) under the spec's prompt profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mafia.errors import MafiaError

from mafia.agents.backends.base import Backend
from mafia.agents.backends.multi_seq import kv_layout
from mafia.agents.llm_player import LLMPlayer
from mafia.agents.plain_player import PlainPlayer
from mafia.agents.plain_prompt import PlainBook
from mafia.agents.prompting import PromptBook
from mafia.agents.registry import ResolvedModel, resolve
from mafia.agents.specs import BASELINES, ModelOptions, effective_profile, split_endpoint


def prompt_style(requested: str, chat_template: str | None) -> str:
    """'auto' picks chat when the GGUF has a chat template, plain completion otherwise."""
    if requested == "chat" and not chat_template:
        raise MafiaError("--prompt-style chat: this model's GGUF has no chat template")
    if requested == "auto":
        return "chat" if chat_template else "completion"
    return requested


_LOADED: dict[tuple[Any, ...], Any] = {}  # with reuse_models only


class Block:
    """Several games in flight in one process (`mafia sweep --in-flight K`): each model's seats
    of all of them share one batched context, whose batches form at one barrier (Lockstep).
    The games play in `slots` slots, one game per slot at a time (a slot takes the next game
    when its own ends); each slot holds, per spec, as many seats as the block's games give
    that spec at most, after those of the slots before it."""

    def __init__(self, games_seat_specs: Sequence[Sequence[str]], slots: int) -> None:
        from mafia.agents.backends.batched import Lockstep

        self.lockstep = Lockstep()
        self.per_slot: dict[str, int] = {}  # spec -> its seats in each slot
        for specs in games_seat_specs:
            for spec in dict.fromkeys(specs):
                self.per_slot[spec] = max(self.per_slot.get(spec, 0), list(specs).count(spec))
        self.seats = {spec: n * slots for spec, n in self.per_slot.items()}
        self.offsets = {(slot, spec): slot * n for slot in range(slots)
                        for spec, n in self.per_slot.items()}
        self.groups: dict[str, Any] = {}

    def clear(self, slot: int) -> None:
        """Forget a slot's cells in every model context (its game is over; the next one in
        the slot must not find the old game's text in seats it does not use)."""
        for spec, group in self.groups.items():
            start = self.offsets[slot, spec]
            for seq in range(start, start + self.per_slot[spec]):
                group.ctx.forget(seq)

    def close(self) -> None:
        """Free every model context of the block (its games are over)."""
        for group in self.groups.values():
            group.close()
        self.groups.clear()


class LLMPlayerFactory:
    """Resolves each model spec once and builds each seat's backend: a handle on the model's
    shared batched context, or (simple backend, endpoint) a backend of its own."""

    def __init__(self, seat_specs: Sequence[str], options: ModelOptions,
                 block: Block | None = None, slot: int = 0) -> None:
        self.options = options
        self.block, self.slot = block, slot
        self.book = PromptBook()
        self.plain_book: PlainBook | None = None
        self.seat_specs = list(seat_specs)
        self.models: dict[str, ResolvedModel | None] = {}
        for spec in dict.fromkeys(s for s in seat_specs if s not in BASELINES):
            self.models[spec] = self._resolve(spec)
        self.groups: dict[str, Any] = {}
        urls = {self.endpoint(s) for s in self.models} - {None}
        if urls:
            from mafia.agents.backends.http_backend import check_endpoint

            for url in sorted(urls):  # type: ignore[type-var]
                check_endpoint(url)  # type: ignore[arg-type]

    def endpoint(self, spec: str) -> str | None:
        """The server that plays a spec: its own (`MODEL@URL`), else --endpoint, else none."""
        return split_endpoint(spec)[1] or self.options.endpoint

    def _resolve(self, spec: str) -> ResolvedModel | None:
        name = split_endpoint(spec)[0]
        if self.endpoint(spec) is None:
            return resolve(name)
        try:  # with an endpoint, a local copy only adds details to the header
            return resolve(name)
        except MafiaError:
            return None

    def profile(self, spec: str) -> str:
        """The prompt profile of a spec's seats ("auto": plain with a trained adapter)."""
        model = self.models.get(spec)
        return effective_profile(self.options.profile,
                                 model is not None and model.adapter is not None)

    def __call__(self, spec: str, seat: int, seed: int) -> Any:
        backend = self._backend(spec, seat)
        if self.profile(spec) == "plain":
            if self.plain_book is None:
                self.plain_book = PlainBook()
            return PlainPlayer(backend, seed=seed, seat=seat, max_tokens=self.options.max_tokens,
                               log_prompts=self.options.log_prompts, book=self.plain_book,
                               spec=spec)
        style = prompt_style(self.options.prompt_style, backend.chat_template)
        return LLMPlayer(backend, seed=seed, seat=seat, style=style,
                         max_tokens=self.options.max_tokens,
                         log_prompts=self.options.log_prompts, book=self.book, spec=spec)

    def _backend(self, spec: str, seat: int) -> Backend:
        if self.block is not None:
            if self.endpoint(spec) is not None or self.options.backend != "batched":
                raise MafiaError("--in-flight needs local models on the batched backend")
            rank = self.block.offsets[self.slot, spec] + self.seat_specs[:seat].count(spec)
            backend: Backend = self._block_group(spec).seat(rank, game=self.slot)
        elif self.endpoint(spec) is None and self.options.backend == "batched":
            rank = self.seat_specs[:seat].count(spec)  # this seat's place among the spec's
            backend = self._group(spec).seat(rank)
        else:
            backend = self._loaded(("seat", spec, seat, self.options), self._new_backend, spec)
        backend.reset()
        return backend

    def _group(self, spec: str) -> Any:
        if spec not in self.groups:
            n = self.seat_specs.count(spec)
            self.groups[spec] = self._loaded(("group", spec, n, self.options),
                                             self._new_group, spec, n)
        return self.groups[spec]

    def _block_group(self, spec: str) -> Any:
        assert self.block is not None
        if spec not in self.block.groups:
            from mafia.agents.backends.batched import BatchedModel

            model = self.models[spec]
            assert model is not None
            self.block.groups[spec] = BatchedModel(
                model, n_seats=self.block.seats[spec], n_ctx=self.options.ctx,
                n_threads=self.options.threads, n_gpu_layers=self.options.gpu_layers,
                lockstep=self.block.lockstep, layout=kv_layout(self.profile(spec)))
        return self.block.groups[spec]

    def _loaded(self, key: tuple[Any, ...], make: Any, *args: Any) -> Any:
        """Make it, or with reuse_models take the one this process already loaded."""
        if not self.options.reuse_models:
            return make(*args)
        if key not in _LOADED:
            _LOADED[key] = make(*args)
        return _LOADED[key]

    def _new_group(self, spec: str, n_seats: int) -> Any:
        from mafia.agents.backends.batched import BatchedModel

        model = self.models[spec]
        assert model is not None
        return BatchedModel(model, n_seats=n_seats, n_ctx=self.options.ctx,
                            n_threads=self.options.threads, n_gpu_layers=self.options.gpu_layers,
                            layout=kv_layout(self.profile(spec)))

    def _new_backend(self, spec: str) -> Backend:
        model = self.models[spec]
        url = self.endpoint(spec)
        if url is not None:
            from mafia.agents.backends.http_backend import HttpBackend

            return HttpBackend(url, spec, model, n_ctx=self.options.ctx,
                               name=split_endpoint(spec)[0])
        from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend

        assert model is not None
        return LlamaCppBackend(model, n_ctx=self.options.ctx, n_threads=self.options.threads,
                               n_gpu_layers=self.options.gpu_layers)
