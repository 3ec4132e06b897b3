"""The pure flow core: events in, metrics out. No I/O and no clock ("as of T" is a parameter);
nothing here imports Faust, Kafka, Prometheus or rich (a test checks)."""
