"""Players: baseline players, language-model players and the backends behind them."""
