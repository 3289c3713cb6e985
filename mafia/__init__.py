"""mafia: small local language models play the party game Mafia."""

__version__ = "0.1.0"
