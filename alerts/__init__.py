"""Alerting as code: Prometheus rules and the Alertmanager routing, generated from the registry."""
