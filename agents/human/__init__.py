"""A person in one seat: `mafia play --human NAME`. `seat.py` is the Player that hands each
request to a front end; `app.py` is the full-screen front end (Textual), `lines.py` the plain
line mode for pipes and screen readers; `view.py` builds what the seat is shown from the events
it may see; `options.py` turns legal options into a menu; `game.py` plays one game."""
