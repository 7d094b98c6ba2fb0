"""`make bench`: every benchmark, figures and ratios measured side by side in one run."""

from __future__ import annotations

import sys

from bench import local_stack, message_service


def main() -> None:
    argv = sys.argv
    sys.argv = argv[:1]  # each benchmark takes its defaults
    message_service.main()
    local_stack.main()
    sys.argv = argv


if __name__ == "__main__":
    main()
