"""What the gateway counts, on its `GET /metrics`, so that each trust's integration team (and the
alerts) can see its own feed: requests by trust and status, events accepted and rejected by
trust, site and reason, request latency and Kafka's acknowledgement time.

Labels stay bounded: the trust is the credential's (never a token or an id from a request); the
site is a registry site or "" (an event that names none the registry knows, or cannot be
read); the reason is one of REJECTION_KINDS. Every registry trust's and site's rejection series
exist at 0 from the start, so that Prometheus' increase() sees the first rejection.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from uecflow.config import Registry

REJECTION_KINDS = ("contract", "too_large", "not_its_site", "not_its_event_type")
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GatewayMetrics:
    def __init__(self, metrics: CollectorRegistry, registry: Registry) -> None:
        self.requests = Counter(
            "uecflow_gateway_requests",
            "Requests answered, by the credential's trust ('' before authentication) and status.",
            ["trust", "status"],
            registry=metrics,
        )
        self.accepted = Counter(
            "uecflow_gateway_events_accepted",
            "Events Kafka acknowledged, by trust and site.",
            ["trust", "site"],
            registry=metrics,
        )
        self.rejected = Counter(
            "uecflow_gateway_events_rejected",
            "Events rejected (403, 422), by trust, site ('' when none is known) and reason.",
            ["trust", "site", "reason"],
            registry=metrics,
        )
        self.latency = Histogram(
            "uecflow_gateway_request_seconds",
            "Time to answer a request, by trust.",
            ["trust"],
            buckets=_SECONDS,
            registry=metrics,
        )
        self.kafka = Histogram(
            "uecflow_gateway_kafka_ack_seconds",
            "Time Kafka took to acknowledge a batch's accepted events (acks=all).",
            buckets=_SECONDS,
            registry=metrics,
        )
        for trust in registry.trusts:
            for site in ("", *registry.sites_of_trust(trust)):
                for kind in REJECTION_KINDS:
                    self.rejected.labels(trust, site, kind)
