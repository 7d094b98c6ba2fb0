"""Benchmarks behind `make bench`.

They measure the write and delivery paths, not the per-user rate limit (a person gets
30 sends at once, then one a second), so unless told otherwise they run with buckets
too large to empty; the local stacks they start inherit this environment.
"""

import os

for _bucket in ("SEND", "WRITE"):
    os.environ.setdefault(f"RATE_LIMIT_{_bucket}_BURST", "1000000")
    os.environ.setdefault(f"RATE_LIMIT_{_bucket}_PER_SECOND", "1000000")
