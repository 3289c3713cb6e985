"""LoRA fine-tuning of the base model on a `mafia train data` dataset (torch, transformers
and peft: the `mafia[train]` extra), with checkpoints and resume, then export to GGUF.

The model is read from the same GGUF file the game plays (transformers dequantizes it), so
the adapter fits the weights llama.cpp runs. Prompts are tokenized by llama.cpp itself, as at
play time. The loss is on the answer tokens only, and logits are computed only there (the
262k-token output matrix dominates the cost). One example per optimizer step, in an order
drawn from the seed; a checkpoint holds the adapter, the optimizer, the step and the order,
so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mafia.errors import MafiaError
from mafia.train.data import read_dataset
from mafia.train.pack import Pack, build_packs, masks
from mafia.train.weights import parse_weight, weigh

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
WARMUP = 20  # steps of linear learning-rate warm-up


@dataclass(frozen=True)
class FitOptions:
    data: tuple[Path, ...]  # one or more datasets, trained on as one
    out: Path
    steps: int = 1000
    seed: int = 0
    lr: float = 2e-4
    rank: int = 16
    device: str = "cpu"
    threads: int | None = None
    save_every: int = 100
    model: str = "gemma3-270m"
    pack_tokens: int = 1024
    init: Path | None = None  # a GGUF adapter to start from (a second round), else zeros
    weights: tuple[str, ...] = ()  # `--weight SELECTOR=W` (mafia.train.weights)


def require_extra() -> None:
    missing = []
    for name in ("torch", "transformers", "peft", "gguf"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise MafiaError(f"mafia train needs the training extra ({', '.join(missing)} missing): "
                         "pip install 'mafia[train]'")


def check_dataset(meta: dict[str, Any], model: Any, path: Path) -> None:
    """Refuse a dataset made for another model, profile or set of prompt templates."""
    from mafia.agents.plain_prompt import PlainBook

    if meta.get("base_sha256") != model.sha256:
        raise MafiaError(f"{path} was made for {meta.get('base')} "
                         f"(sha256 {str(meta.get('base_sha256'))[:12]}), not for {model.alias} "
                         f"(sha256 {model.sha256[:12]})")
    if meta.get("profile") != "plain":
        raise MafiaError(f"{path} holds {meta.get('profile')} prompts; training uses plain ones")
    current = PlainBook().hash
    if meta.get("prompt_hash") != current:
        raise MafiaError(f"{path} was made with other prompt templates (hash "
                         f"{meta.get('prompt_hash')}, these are {current}): run "
                         "mafia train data again")


def tokenize(model_path: Path, examples: list[dict[str, Any]]) -> list[tuple[list[int], list[int]]]:
    """Each example as (token ids of prompt + target, positions of the target's tokens),
    tokenized by llama.cpp as at play time."""
    from mafia.agents.backends.llama_loading import load_llama

    llm = load_llama(model_path=str(model_path), vocab_only=True, verbose=False)
    out = []
    for ex in examples:
        prompt = llm.tokenize(ex["prompt"].encode(), add_bos=True, special=False)
        full = llm.tokenize((ex["prompt"] + ex["target"]).encode(), add_bos=True,
                            special=False)
        start = _common_start(prompt, full)
        out.append((list(full), list(range(max(start, 1), len(full)))))
    return out


def _common_start(a: list[int], b: list[int]) -> int:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return i


def load_base(model: Any, device: str, rank: int, dtype: Any = None) -> Any:
    """The GGUF's weights as a transformers model with LoRA on every linear layer; the base
    computes in `dtype` (default: `compute_dtype(device)`)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    base = AutoModelForCausalLM.from_pretrained(str(model.path.parent),
                                                gguf_file=model.path.name,
                                                dtype=torch.float32, attn_implementation="sdpa")
    base.config.quantization_config = None  # loaded from GGUF; nothing is quantized now
    base = base.to(device=device, dtype=dtype or compute_dtype(device))
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, bias="none",
                        target_modules=list(TARGETS), task_type="CAUSAL_LM")
    peft_model = get_peft_model(base, config)
    for name, p in peft_model.named_parameters():
        if p.requires_grad:
            p.data = p.data.float()  # adapter weights and their updates in fp32
    return peft_model


def compute_dtype(device: str, flags: str | None = None) -> Any:
    """bf16 where the hardware computes it (a recent GPU; a CPU with AVX-512 bf16 or AMX), else
    fp32: on a CPU without them torch emulates bf16 (a 1024x640 by 640x2048 product took
    11 s in bf16 against 43 ms in fp32 on an AVX2-only AMD EPYC)."""
    import torch

    if device != "cpu":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if flags is None:
        try:
            flags = next((ln for ln in open("/proc/cpuinfo") if ln.startswith("flags")), "")
        except OSError:
            flags = ""
    native = {"avx512_bf16", "amx_bf16"} & set(flags.replace(":", " ").split())
    return torch.bfloat16 if native else torch.float32


def pack_loss(peft_model: Any, pack: Pack, device: str) -> Any:
    """Mean over the pack's examples of each one's mean cross-entropy on its answer tokens
    times the example's weight;
    logits only where an answer token is predicted (the 262k-token output matrix dominates)."""
    import torch

    causal = peft_model.base_model.model  # e.g. Gemma3ForCausalLM
    inp = torch.tensor([pack.ids], device=device)
    pos = torch.tensor([pack.positions], device=device)
    attn = masks(pack, getattr(causal.config, "sliding_window", None), device)
    hidden = causal.model(input_ids=inp, position_ids=pos, attention_mask=attn).last_hidden_state[0]
    where = [i for ans in pack.answers for i, _ in ans]
    logits = causal.lm_head(hidden.index_select(0, torch.tensor(where, device=device))).float()
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    target = torch.tensor([t for ans in pack.answers for _, t in ans], device=device)
    token_loss = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    sizes = [len(ans) for ans in pack.answers]
    per_example = torch.stack([part.mean() for part in token_loss.split(sizes)])
    weights = torch.tensor(pack.weights or [1.0] * len(sizes), device=device)
    return (per_example * weights).mean()


def learning_rate(opts: FitOptions, step: int) -> float:
    """Linear warm-up, then a cosine decay to a tenth at the last step."""
    if step < WARMUP:
        return opts.lr * (step + 1) / WARMUP
    done = min(1.0, (step - WARMUP) / max(1, opts.steps - WARMUP))
    return opts.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * done)))


def fit(opts: FitOptions) -> Path:
    """Train (or resume) and export; returns the adapter's path."""
    require_extra()
    import torch
    from rich.progress import (
        BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn,
    )

    from mafia.agents.registry import file_sha256, resolve

    if opts.device == "cuda" and not torch.cuda.is_available():
        raise MafiaError("--device cuda: this torch has no CUDA device")
    model = resolve(opts.model)
    selectors = [parse_weight(w) for w in opts.weights]
    examples, weights = [], []
    for path in opts.data:
        meta, some = read_dataset(path)
        check_dataset(meta, model, path)
        for ex, w in zip(some, weigh(meta, some, selectors)):
            if w > 0:
                examples.append(ex)
                weights.append(w)
    if not examples:
        raise MafiaError(f"{', '.join(map(str, opts.data))} hold no examples"
                         + (" of weight above 0" if selectors else ""))
    mean_weight = sum(weights) / len(weights)  # so that weights change the mix, not the step
    weights = [w / mean_weight for w in weights]
    if opts.threads:
        torch.set_num_threads(opts.threads)
    config = {**asdict(opts), "data": [str(d) for d in opts.data], "out": str(opts.out),
              "data_sha256": [file_sha256(d) for d in opts.data], "base_sha256": model.sha256,
              **({"weights": list(opts.weights)} if opts.weights else {}),
              "prompt_hash": meta["prompt_hash"], "threads": None, "save_every": None,
              "device": None, "steps": None, "init": str(opts.init) if opts.init else None,
              "init_sha256": file_sha256(opts.init) if opts.init else None}
    ckpt = opts.out / "checkpoint.pt"
    try:
        opts.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MafiaError(f"cannot write {opts.out}: {exc.strerror or exc}") from None
    state = _load_checkpoint(ckpt, config) if ckpt.exists() else None
    torch.manual_seed(opts.seed)
    dtype = compute_dtype(opts.device)
    peft_model = load_base(model, opts.device, opts.rank, dtype)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=opts.lr, weight_decay=0.0)
    step, tokens_done, seconds_done = 0, 0, 0.0
    if state is None and opts.init is not None:
        _start_from(peft_model, opts.init, opts.rank, model.sha256)
    if state is not None:
        peft_model.load_state_dict(state["adapter"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        step, tokens_done, seconds_done = state["step"], state["tokens"], state["seconds"]
    packs = build_packs(tokenize(model.path, examples), opts.pack_tokens, weights)
    order = random.Random(opts.seed).sample(range(len(packs)), len(packs))
    covered = sum(p.covered for p in packs)
    if selectors:
        print(f"weights {' '.join(map(str, selectors))}: {len(examples)} examples kept, "
              f"weight x{max(weights) / min(weights):.1f} from the lightest to the heaviest")
    print(f"{len(examples)} examples in {len(packs)} packs: "
          f"{sum(len(p) for p in packs)} tokens to compute for {covered} "
          f"({covered / max(1, sum(len(p) for p in packs)):.1f}x shared)")
    log = open(opts.out / "train-log.jsonl", "a")
    peft_model.train()
    started = time.perf_counter() - seconds_done
    columns = (TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeRemainingColumn())
    with Progress(*columns) as progress:
        task = progress.add_task("fit", total=opts.steps, completed=step, info="")
        window: list[tuple[float, int, float]] = []
        recent: list[tuple[int, float]] = []  # (pack index, loss) since the last log line
        while step < opts.steps:
            epoch, i = divmod(step, len(order))
            index = order[i] if epoch == 0 else random.Random(f"{opts.seed}:{epoch}").sample(
                order, len(order))[i]
            pack = packs[index]
            t0 = time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(opts, step)
            loss = pack_loss(peft_model, pack, opts.device)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            tokens_done += len(pack)
            value = loss.item()  # one device sync per step
            window = (window + [(value, len(pack), time.perf_counter() - t0)])[-20:]
            recent.append((index, value))
            rate = sum(w[1] for w in window) / max(1e-9, sum(w[2] for w in window))
            mean_loss = sum(w[0] for w in window) / len(window)
            progress.update(task, completed=step,
                            info=f"loss {mean_loss:.3f} · {rate:.0f} tok/s · epoch {epoch + 1}")
            if step % 5 == 0 or step == opts.steps:
                # each step's own loss and pack (packs are numbered as built, so one that
                # spikes can be looked up in the data)
                log.write(json.dumps({"step": step, "epoch": epoch + 1, "loss": mean_loss,
                                      "tokens": tokens_done, "tok_s": rate,
                                      "lr": learning_rate(opts, step - 1),
                                      "wall_s": time.perf_counter() - started,
                                      "step_losses": [round(x, 4) for _, x in recent],
                                      "step_packs": [i for i, _ in recent]}) + "\n")
                recent = []
                log.flush()
            if step % opts.save_every == 0 or step == opts.steps:
                _save_checkpoint(ckpt, peft_model, optimizer, config, step, tokens_done,
                                 time.perf_counter() - started)
    log.close()
    wall = time.perf_counter() - started
    adapter = export_run(opts.out)
    device = torch.cuda.get_device_name() if opts.device == "cuda" else _cpu_name()
    summary = {"steps": step, "tokens": tokens_done, "tok_s": tokens_done / max(wall, 1e-9),
               "wall_s": wall, "device": device, "dtype": str(dtype),
               "adapter": str(adapter)}
    (opts.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"trained {step} steps, {tokens_done} tokens, {summary['tok_s']:.0f} tok/s, "
          f"{wall:.0f} s on {device} -> {adapter}")
    return adapter


def _start_from(peft_model: Any, path: Path, rank: int, base_sha256: str) -> None:
    """Load a GGUF adapter's weights into the fresh LoRA layers (same base and rank)."""
    from mafia.train.export import read_gguf_adapter

    from mafia.agents.gguf_meta import read_gguf_info

    try:
        trained_on = read_gguf_info(path).trained_base_sha256
        keys = [k for k in peft_model.state_dict() if "lora_" in k]
        weights, alpha = read_gguf_adapter(path, keys)
    except (OSError, ValueError) as exc:
        raise MafiaError(f"--init {path}: not an adapter this run can start from ({exc})"
                         ) from None
    if trained_on not in (None, base_sha256):
        raise MafiaError(f"--init {path} was trained on another base model "
                         f"(sha256 {trained_on[:12]})")
    shapes = {k: tuple(v.shape) for k, v in peft_model.state_dict().items() if k in weights}
    if alpha != 2.0 * rank or any(tuple(weights[k].shape) != shapes[k] for k in keys):
        raise MafiaError(f"--init {path} has another rank than --rank {rank}")
    peft_model.load_state_dict(weights, strict=False)


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return "cpu"


def _save_checkpoint(path: Path, peft_model: Any, optimizer: Any, config: dict[str, Any],
                     step: int, tokens: int, seconds: float) -> None:
    """Written to a temporary file and renamed: an interruption leaves the last whole one."""
    import torch

    adapter = {k: v.detach().cpu() for k, v in peft_model.state_dict().items() if "lora_" in k}
    tmp = path.with_suffix(".tmp")
    torch.save({"config": config, "adapter": adapter, "optimizer": optimizer.state_dict(),
                "step": step, "tokens": tokens, "seconds": seconds}, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, config: dict[str, Any] | None) -> dict[str, Any]:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated or foreign file: torch raises many kinds
        raise MafiaError(f"checkpoint {path} is unreadable ({type(exc).__name__}): delete it "
                         "to start over") from None
    if config is not None and state.get("config") != config:
        differ = sorted(k for k in config if state.get("config", {}).get(k) != config[k])
        raise MafiaError(f"{path} belongs to another run (differs in {', '.join(differ)}); "
                         "use another --out")
    return dict(state)


def export_run(run_dir: Path, out: Path | None = None) -> Path:
    """The run's checkpoint as a llama.cpp GGUF LoRA adapter (F16)."""
    require_extra()
    from mafia.train.export import write_gguf_adapter

    ckpt = run_dir / "checkpoint.pt"
    if not ckpt.exists():
        raise MafiaError(f"no checkpoint in {run_dir} (train first with mafia train fit)")
    state = _load_checkpoint(ckpt, None)
    rank = int(state["config"]["rank"])
    path = out or run_dir / "adapter.gguf"
    write_gguf_adapter(path, state["adapter"], alpha=2.0 * rank,
                       meta={"mafia.base_sha256": state["config"]["base_sha256"],
                             "mafia.prompt_hash": state["config"]["prompt_hash"],
                             "mafia.profile": "plain"})
    return path
