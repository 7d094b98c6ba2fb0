"""`make bench`: every benchmark, figures and ratios measured side by side in one run."""

from __future__ import annotations

from bench import message_service


def main() -> None:
    message_service.main()


if __name__ == "__main__":
    main()
