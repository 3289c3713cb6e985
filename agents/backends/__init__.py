"""Model backends: in-process llama.cpp, an OpenAI-compatible HTTP endpoint, a scripted fake."""
