"""Grafana dashboards as code: built from the registry with grafana-foundation-sdk."""
