"""Tests of `uecflow report`: the situation report from Prometheus."""
