"""`mafia train`: teach a model to play from a teacher's games.

data.py writes a JSONL dataset of plain-profile prompts and the teacher's answers; fit.py
fine-tunes a LoRA adapter with torch (the optional `mafia[train]` extra); export.py writes
it in llama.cpp's GGUF LoRA format, which both in-process backends load at play time.
"""
