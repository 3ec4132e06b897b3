"""What puts contract events into uecflow: `uecflow produce` (producers.kafka), the ingestion
gateway trusts post to (producers.gateway), and the simulator of the six NEL emergency
departments (producers.simulator)."""
