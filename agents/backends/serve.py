"""`python -m mafia.agents.backends.serve ...`: llama-cpp-python's OpenAI-compatible server
(`python -m llama_cpp.server`, same flags), loading models as our in-process backend does
(see llama_loading.py), so it runs on the machines where a native AMX build crashes."""

from mafia.agents.backends.llama_loading import disable_extra_buffers

if __name__ == "__main__":
    disable_extra_buffers()
    from llama_cpp.server.__main__ import main

    main()
