"""Trust-side code: what produces contract events (the sample generator for now)."""
