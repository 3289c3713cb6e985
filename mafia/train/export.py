"""Writing a PEFT LoRA state dict as llama.cpp's GGUF LoRA adapter (F16), with the `gguf`
package: the tensor names and shapes llama.cpp's own convert_lora_to_gguf.py writes for a
Gemma 3 model (no permutation of q/k for this architecture)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# transformers module name -> llama.cpp tensor name, per transformer block
MODULES = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
           "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
           "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
_KEY = re.compile(r"layers\.(\d+)\.(.+)\.lora_([AB])\.(?:default\.)?weight$")


def tensor_names(state: dict[str, Any]) -> dict[str, str]:
    """PEFT key -> GGUF tensor name (blk.N.attn_q.weight.lora_a ...)."""
    out = {}
    for key in state:
        m = _KEY.search(key)
        if m is None:
            raise ValueError(f"unexpected adapter tensor {key}")
        layer, module, ab = m.groups()
        out[key] = f"blk.{layer}.{MODULES[module]}.weight.lora_{ab.lower()}"
    return out


def write_gguf_adapter(path: Path, state: dict[str, Any], *, alpha: float,
                       arch: str = "gemma3", meta: dict[str, str] | None = None) -> None:
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), arch=arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    for key, value in (meta or {}).items():
        writer.add_string(key, value)
    names = tensor_names(state)
    for key in sorted(names, key=lambda k: names[k]):
        array = state[key].float().numpy().astype(np.float16)  # A: (r, in), B: (out, r)
        writer.add_tensor(names[key], array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def read_gguf_adapter(path: Path, keys: list[str]) -> tuple[dict[str, Any], float]:
    """A GGUF LoRA adapter's tensors under the PEFT `keys` they were written from, and its
    alpha: the inverse of write_gguf_adapter (to start a training round from an adapter).
    ValueError if the file lacks one of them."""
    import numpy as np
    import torch
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    tensors = {t.name: t for t in reader.tensors}
    field = reader.get_field("adapter.lora.alpha")
    if field is None:
        raise ValueError("no adapter.lora.alpha: not a LoRA adapter")
    alpha = float(field.parts[field.data[0]][0])
    names = tensor_names({k: None for k in keys})
    state = {}
    for key, name in names.items():
        if name not in tensors:
            raise ValueError(f"no tensor {name}")
        state[key] = torch.from_numpy(np.array(tensors[name].data, dtype=np.float32))
    return state, alpha
