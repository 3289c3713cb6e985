"""Loading a `Llama` safely on CPUs whose AMX units crash ggml.

On this project's reference machines (2-core VMs whose CPUs advertise AMX), a natively built
llama.cpp segfaults in `ggml_backend_amx_mul_mat` on the first multi-token batch. AMX kernels
are reached through ggml's "extra buffer types" (weight repacking), so we load models with
`use_extra_bufts = false`. Set MAFIA_LLAMA_EXTRA_BUFFERS=1 to keep them (faster where they work).
"""

from __future__ import annotations

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


def load_llama(**kwargs: Any) -> Any:
    from llama_cpp import Llama
    from llama_cpp._utils import suppress_stdout_stderr

    with _PATCH_LOCK:
        disable_extra_buffers()
        # llama.cpp prints load-time notes (e.g. about Gemma's SWA cache) to the stderr file
        # descriptor even with verbose=False; keep the terminal clean while loading.
        with suppress_stdout_stderr(disable=bool(kwargs.get("verbose"))):
            return Llama(**kwargs)
