"""Warm Lambda containers for the local gateway.

Lambda runs one invocation at a time per container, and handler modules keep state
between invocations on that promise (Powertools' resolver holds the current event, the
Logger its keys). So each function gets N containers here: N separate loads of its
handler file, each serving one invocation at a time. The shared package is loaded once,
as a layer's code is shared by nothing but is the same code in every container; its
process-wide parts (the database pool, boto3 clients) are thread-safe.
"""

from __future__ import annotations

import importlib.util
import queue
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves the module's annotations through it
    spec.loader.exec_module(module)
    return module


class WarmContainers:
    def __init__(self, handler_file: str, count: int, entry: str = "lambda_handler") -> None:
        path = ROOT / handler_file
        stem = handler_file.removesuffix(".py").replace("/", "_")
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for index in range(max(1, count)):
            module = _load(path, f"_lambda_{stem}_{index}")
            self._idle.put(getattr(module, entry))

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        handler = self._idle.get()  # waits, as a throttled invocation would
        try:
            return handler(event, context)
        finally:
            self._idle.put(handler)
