"""Process-wide objects built on first use (never at import), swappable by tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value

    def set(self, value: T | None) -> None:
        """Swap in a value (tests, the local stack), or None to build afresh."""
        with self._lock:
            self._value = value
