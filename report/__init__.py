"""`uecflow report`: the SCC situation report, one page, PNG and PDF, read from Prometheus."""
