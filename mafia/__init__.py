"""mafia: small local language models play the party game Mafia."""

# Bumped with every release (README: Versions); transcripts and sweeps record it with the
# commit and code hashes (mafia/provenance.py).
__version__ = "0.3.0"
