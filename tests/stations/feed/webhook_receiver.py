"""A real HTTP receiver on localhost for webhook tests: records what arrives, can fail."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from stations.feed.delivery import ID_HEADER, verify

__all__ = ["Receiver"]


class Receiver:
    """Listens on 127.0.0.1; ``fail_next`` answers that many requests with 500 first.

    ``batches`` keeps every accepted POST (redeliveries included); ``changes()`` gives the
    entries once each, as a receiver that drops a ``Webhook-Id`` it already has would."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.batches: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.bad_signatures = 0
        self.torn = 0  # requests whose body never arrived whole
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender died mid-request (the kill -9 tests): a torn body is no
                    # delivery and no forgery, and there is nobody left to answer.
                    with receiver.lock:
                        receiver.torn += 1
                    self.close_connection = True
                    return
                with receiver.lock:
                    if receiver.secret and not verify(receiver.secret, self.headers, body):
                        receiver.bad_signatures += 1
                        self.send_response(401)
                    elif receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        self.send_response(500)
                    else:
                        receiver.batches.append(json.loads(body))
                        receiver.ids.append(self.headers[ID_HEADER])
                        self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def changes(self) -> list[dict[str, Any]]:
        seen: set[str] = set()
        out = []
        with self.lock:
            for batch in self.batches:
                for e in batch["changes"]:
                    if e["cursor"] not in seen:
                        seen.add(e["cursor"])
                        out.append(e)
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
