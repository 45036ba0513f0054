"""A worker pool that answers in this process: the protocol and the pages, tested without processes.

The real pool (kg.serve.workers) sends each job to a worker process over a pipe. This one runs the
very same worker code (`kg.serve.worker._Worker`: the store opened read-only, the query evaluated by
Oxigraph, the answer serialised and framed) in the test's own process, writing the frames to a file
it reads back. Only the process boundary, and so the timeout, is gone: the Flask test client can then
exercise the SPARQL protocol and the pages in milliseconds, while tests/serve/test_serve_protocol.py
keeps testing the real server.
"""

from __future__ import annotations

import pickle
import tempfile
from dataclasses import replace
from pathlib import Path

from kg.namespaces import PREFIXES
from kg.serve import worker as wire
from kg.serve.workers import Answer, Job

MODES = ("query", "update")


class InProcessPool:
    """The `WorkerPool` interface (run, update, generation, size, close) over in-process workers."""

    size = 1

    def __init__(self, store: Path, *, max_rows: int = 100_000, base: str | None = None) -> None:
        config = {"store": str(store), "max_rows": max_rows, "memory_quads": 0, "base": base, "prefixes": PREFIXES}
        self.workers = {mode: wire._Worker({**config, "mode": mode}) for mode in MODES}
        self.generation = 0

    def _answer(self, mode: str, job: Job) -> Answer:
        # the frames a worker would send up its pipe, through a file (a pipe would fill and block)
        with tempfile.TemporaryFile() as sink:
            out = wire._Output(sink.fileno())
            self.workers[mode].answer(job, out)
            sink.seek(0)
            fd, buffer = sink.fileno(), bytearray()
            status, headers, body = 0, [], []
            while (got := wire._read_frame(fd, buffer)) is not None:
                kind, payload = got
                if kind == wire.HEAD:
                    status, headers, _view = pickle.loads(payload)
                elif kind == wire.DATA:
                    body.append(payload)
                elif kind == wire.END:
                    break
        return Answer(status, headers, body=b"".join(body))

    def run(self, job: Job, timeout: float, wait: float | None = None) -> Answer:
        # every job sees the store as the last update left it, as the real pool's jobs do
        return self._answer("query", replace(job, generation=self.generation, required=self.generation))

    def update(self, text: str, timeout: float) -> Answer:
        answer = self._answer("update", Job(text, update=True))
        if answer.status < 300:
            self.generation += 1
            self.workers["query"].handle.reopen(self.generation)
        return answer

    def close(self) -> None:
        self.workers.clear()

