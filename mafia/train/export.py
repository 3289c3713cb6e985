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
