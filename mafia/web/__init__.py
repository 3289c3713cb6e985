"""`mafia replay --web`: a self-contained HTML page (data, CSS and JS inlined) to watch a game
in a browser, from the points of view the export allows."""
