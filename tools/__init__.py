"""Tooling that is not the product: the report example's backfill, and the harness that starts
a real broker and workers for tests and benchmarks. Not shipped in the wheel or the image."""
