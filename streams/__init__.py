"""Stream processing: the pure flow core (state, metrics) and the adapters that drive it."""
