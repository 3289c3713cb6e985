"""Run by hand (`python tests/measure_echo_speed.py`, about 3 minutes, CPU-heavy): How long llama-cpp-python's server takes to echo prompt log-probabilities, per prompt
token, for the bundled models; and the TV distance local vs served on a few prompts."""
import asyncio, json, subprocess, sys, time, urllib.request, socket
import numpy as np
from mafia.agents.registry import resolve
from mafia.agents.backends.http_backend import HttpBackend
from mafia.agents.backends.llama_cpp_backend import LlamaCppBackend

s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
cfg = {"host": "127.0.0.1", "port": port, "models": [
    {"model": str(resolve(m).path), "model_alias": m, "n_ctx": 2048, "n_threads": 2,
     "n_threads_batch": 2, "verbose": False} for m in ("gemma3-270m", "smollm2-135m")]}
open("/tmp/echo-cfg.json", "w").write(json.dumps(cfg))
proc = subprocess.Popen([sys.executable, "-m", "mafia.agents.backends.serve", "--config_file",
                         "/tmp/echo-cfg.json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
url = f"http://127.0.0.1:{port}/v1"
for _ in range(180):
    try:
        urllib.request.urlopen(url + "/models", timeout=2).read(); break
    except OSError:
        time.sleep(0.5)
try:
    for name in ("gemma3-270m", "smollm2-135m"):
        b = HttpBackend(url, name, resolve(name))
        print(name, "choice_method", b.choice_method)
        for words in (20, 100):
            prompt = " ".join(["Alice said that Bob is lying."] * (words // 6)) + "\nCarol votes for"
            t = time.perf_counter()
            data = b._post({"prompt": prompt, "max_tokens": 1, "temperature": 0.0, "echo": True, "logprobs": 1})
            dt = time.perf_counter() - t
            n = data["usage"]["prompt_tokens"]
            print(f"  {n} prompt tokens: {dt:.2f} s per echoed request, {dt / n * 1000:.0f} ms per token")
    local = LlamaCppBackend(resolve("gemma3-270m"), n_ctx=512)
    b = HttpBackend(url, "gemma3-270m", resolve("gemma3-270m"))
    opts = [" Alice", " Bob", " Carol", " nobody"]
    for prompt in ("Mafia game. Alice, Bob and Carol are alive. Bob is mafia.\nAlice votes for",
                   "Carol: I checked Bob last night and he is mafia.\nDave votes for"):
        h = asyncio.run(local.choose(prompt, opts, seed=3, temperature=1.0)).logprobs
        r = asyncio.run(b.choose(prompt, opts, seed=3, temperature=1.0)).logprobs
        d = lambda x: np.exp(np.array(x) - max(x)) / np.exp(np.array(x) - max(x)).sum()
        print("TV", 0.5 * np.abs(d(h) - d(r)).sum(), "local", np.round(h, 3), "served", np.round(r, 3))
finally:
    proc.terminate(); proc.wait()
