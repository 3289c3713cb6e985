"""Loading a `Llama` safely on CPUs whose AMX units crash ggml.

On this project's reference machines (2-core VMs whose CPUs advertise AMX), a natively built
llama.cpp segfaults in `ggml_backend_amx_mul_mat` on the first multi-token batch. AMX kernels
are reached through ggml's "extra buffer types" (weight repacking), so we load models with
`use_extra_bufts = false`. Set MAFIA_LLAMA_EXTRA_BUFFERS=1 to keep them (faster where they work).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from typing import Any

_PATCH_LOCK = threading.Lock()


def extra_buffers_enabled() -> bool:
    return os.environ.get("MAFIA_LLAMA_EXTRA_BUFFERS", "") == "1"


def disable_extra_buffers() -> None:
    """Make every later `Llama(...)` in this process load without extra buffer types."""
    import llama_cpp.llama_cpp as raw

    if extra_buffers_enabled() or getattr(raw.llama_model_default_params, "_mafia", False):
        return
    original = raw.llama_model_default_params

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    defaults._mafia = True  # type: ignore[attr-defined]
    raw.llama_model_default_params = defaults


def llama_cpp_version() -> str:
    """The llama.cpp bindings' version: results of one seed can differ between builds."""
    import llama_cpp

    return str(getattr(llama_cpp, "__version__", "unknown"))


def load_llama(**kwargs: Any) -> Any:
    from llama_cpp import Llama
    from llama_cpp._utils import suppress_stdout_stderr

    import llama_cpp._internals as internals

    with _PATCH_LOCK:
        disable_extra_buffers()
        original = internals.LlamaModel
        internals.LlamaModel = _shared_model_factory(original)  # type: ignore[misc]
        try:
            # llama.cpp prints load-time notes (e.g. about Gemma's SWA cache) to the stderr
            # file descriptor even with verbose=False; keep the terminal clean while loading.
            with suppress_stdout_stderr(disable=bool(kwargs.get("verbose"))):
                return Llama(**kwargs)
        finally:
            internals.LlamaModel = original  # type: ignore[misc]


# One loaded llama_model per (file, load parameters), shared by every seat's context: weights
# are mmapped anyway, but each load also builds the vocabulary (262k tokens for Gemma: ~0.7 s
# and tens of MiB per seat). Kept for the life of the process.
_MODELS: dict[tuple[str, int, bool], Any] = {}


@atexit.register
def _leak_shared_models() -> None:
    """At exit, let the OS reclaim shared models: freeing one during interpreter teardown,
    possibly before a context that uses it, could crash the process on its way out."""
    for model in _MODELS.values():
        model._exit_stack = contextlib.ExitStack()
        model.close = lambda: None


class _SharedModel:
    """A LlamaModel that the owning Llama must not free (other seats use it too)."""

    def __init__(self, model: Any) -> None:
        self._shared = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shared, name)

    def close(self) -> None:
        pass


def _shared_model_factory(original: Any) -> Any:
    def make(*, path_model: str, params: Any, verbose: bool = True) -> Any:
        if params.vocab_only:
            return original(path_model=path_model, params=params, verbose=verbose)
        key = (path_model, int(params.n_gpu_layers), bool(params.use_extra_bufts))
        if key not in _MODELS:
            _MODELS[key] = original(path_model=path_model, params=params, verbose=verbose)
        return _SharedModel(_MODELS[key])

    return make


def pss_mib() -> float:
    """This process's proportional set size (for quick measurements)."""
    for line in open("/proc/self/smaps_rollup"):
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


# LoRA adapters, loaded once per (loaded model, file): an adapter belongs to its model and is
# set on each context that plays with it (the simple backend's, or the batched one's).
_ADAPTERS: dict[tuple[int, str], Any] = {}


def set_adapter(llm: Any, ctx: Any, path: str, scale: float = 1.0) -> None:
    """Load the GGUF LoRA adapter at `path` for `llm`'s model (once) and apply it to `ctx`
    (a raw llama_context). RuntimeError if llama.cpp refuses it."""
    import ctypes

    import llama_cpp.llama_cpp as raw

    model = llm._model.model
    key = (ctypes.cast(model, ctypes.c_void_p).value or 0, path)
    if key not in _ADAPTERS:
        from llama_cpp._utils import suppress_stdout_stderr

        with suppress_stdout_stderr(disable=False):
            adapter = raw.llama_adapter_lora_init(model, path.encode("utf-8"))
        if not adapter:
            raise RuntimeError(f"llama.cpp cannot load the LoRA adapter {path}")
        _ADAPTERS[key] = adapter
    adapters = (raw.llama_adapter_lora_p_ctypes * 1)(_ADAPTERS[key])
    scales = (ctypes.c_float * 1)(scale)
    if raw.llama_set_adapters_lora(ctx, adapters, 1, scales):
        raise RuntimeError(f"llama.cpp cannot apply the LoRA adapter {path}")
