"""What every method shares: layer lookup, the graph walk, default layers,
the model map, receptive fields, and image similarity."""
