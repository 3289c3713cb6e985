"""mafia: small local language models play the party game Mafia."""

# Bumped with every release (docs/versions.md); transcripts and sweeps record it with the
# commit and code hashes (mafia/provenance.py).
__version__ = "0.4.10"
