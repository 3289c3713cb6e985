"""`mafia report`: statistics over a folder of finished games (a sweep, or any transcripts).

load (transcripts -> games) -> metrics, behaviour, quality (with speech), rating, baseline ->
build (a Report) -> json_out (one JSON object) -> render (rich tables) and plots (PNG charts)."""
