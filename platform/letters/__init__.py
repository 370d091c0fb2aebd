"""The emails Cookout sends, one module per kind of letter."""
