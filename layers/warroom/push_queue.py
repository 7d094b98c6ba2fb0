"""The push queue (issue 19): where notices wait, so a send's ack never waits on a push
service. In the cloud an SQS queue drained by `functions/push`; in `make dev` a background
worker the local stack registers (`set_push_queue(InProcessPushWorker(send_notice))`).
Kept apart from `warroom.webpush` (which signs with the VAPID key): a function that only
enqueues never reaches the key.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from warroom.lazy import Lazy
from warroom.logic.notices import Notice
from warroom.settings import push_settings

logger = logging.getLogger(__name__)


class PushQueue(Protocol):
    def enqueue(self, notices: Iterable[Notice]) -> None: ...


class InProcessPushWorker:
    """`make dev`: one background thread sends, in order; nothing that enqueues waits."""

    def __init__(self, send: Callable[[Notice], object]) -> None:
        self._send = send
        self._queue: queue.SimpleQueue[Notice] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def enqueue(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            self._queue.put(notice)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="push-worker", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            notice = self._queue.get()
            try:
                self._send(notice)
            except Exception:
                logger.exception("push worker: a notice failed")


class SqsPushQueue:
    """The cloud: the push queue, drained by `functions/push` (batches of ten)."""

    def __init__(self, queue_url: str) -> None:
        import boto3

        self._url = queue_url
        self._sqs = boto3.client("sqs")

    def enqueue(self, notices: Iterable[Notice]) -> None:
        batch = [json.dumps(n.to_json()) for n in notices]
        for start in range(0, len(batch), 10):
            self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "MessageBody": body}
                    for i, body in enumerate(batch[start : start + 10])
                ],
            )


def _queue_from_settings() -> PushQueue:
    from warroom.errors import ConfigurationError

    settings = push_settings()
    if settings.transport == "sqs":
        if not settings.push_queue_url:
            raise ConfigurationError("PUSH_TRANSPORT=sqs needs PUSH_QUEUE_URL")
        return SqsPushQueue(settings.push_queue_url)
    raise ConfigurationError(
        "PUSH_TRANSPORT=inprocess needs a worker registered with set_push_queue (the local stack does)"
    )


_push_queue: Lazy[PushQueue] = Lazy(_queue_from_settings)
push_queue = _push_queue.get
set_push_queue = _push_queue.set
