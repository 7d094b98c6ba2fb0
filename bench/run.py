"""`make bench`: every benchmark, figures and ratios measured side by side in one run.

1. the message service against the same SQL issued raw;
2. PostgreSQL round trips per write;
3. CPU per fan-out recipient of both Lambda transports;
4. the cold import of each handler;
5. the local stack against the reference monolith (compare.sh, when present);
6. machine-readings ingest against a raw COPY and multi-row INSERT of the same rows.
"""

from __future__ import annotations

import sys
import time

from bench import cold_start, ingest, local_stack, message_service, round_trips, transports


def main() -> None:
    argv = sys.argv
    sys.argv = argv[:1]  # each benchmark takes its defaults
    started = time.monotonic()
    for bench in (message_service, round_trips, transports, cold_start, local_stack, ingest):
        bench.main()
        print()
    print(f"make bench took {time.monotonic() - started:.0f} s")
    sys.argv = argv


if __name__ == "__main__":
    main()
