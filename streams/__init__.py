"""Stream processing. `streams.core` is the pure flow core (events in, metrics out, no I/O and
no clock); the rest are its adapters: the Faust worker and its changelog (`streams.worker`),
the Kafka topics (`streams.topics`), the Prometheus exporter (`streams.exporter`) and the
terminal table (`streams.table`)."""
