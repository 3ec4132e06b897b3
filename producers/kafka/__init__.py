"""Sending contract events to Kafka: the async sender the gateway uses (`sender`) and
`uecflow produce` for files (`produce`)."""
