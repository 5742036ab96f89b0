"""Streaming frames into PostgreSQL with binary COPY; the encoding lives in encode.py.

Binary COPY is the fastest way in (docs/binary-copy.md). A
CopyStream sends the frames of one or more tables from a background thread and keeps a sha256 of
each table's tuple bytes (no header or trailer: the checksum does not depend on how rows were split into frames,
chunks or statements) so a year's content can be compared across runs. NULL and date
conventions are documented in encode.py.
"""
from __future__ import annotations

import hashlib
import queue
import threading
from contextlib import ExitStack

from psycopg import sql

from .encode import (CHUNK_ROWS, HEADER, PG_EPOCH_DAYS, PG_EPOCH_US, TRAILER, check_frame,
                     encode_chunk, encode_frame, iter_chunks)
from .schema import Frame, Table

__all__ = ["CHUNK_ROWS", "HEADER", "PG_EPOCH_DAYS", "PG_EPOCH_US", "TRAILER", "CopyAborted",
           "CopyStream", "check_frame", "copy_statement", "encode_chunk", "encode_frame",
           "iter_chunks"]


def copy_statement(table: Table, relation: str | None = None, *, freeze: bool = False) -> sql.Composed:
    """COPY schema.relation (columns) FROM STDIN (FORMAT BINARY[, FREEZE])."""
    opts = sql.SQL("FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY")
    return sql.SQL("COPY {}.{} ({}) FROM STDIN ({})").format(
        sql.Identifier(table.schema), sql.Identifier(relation or table.name),
        sql.SQL(", ").join(map(sql.Identifier, table.column_names)), opts)


_END, _ABORT = object(), object()


class CopyAborted(Exception):
    """Raised inside the COPY thread so psycopg sends CopyFail when the producer failed."""


class CopyStream:
    """Frames of one or more tables, in the order given, through binary COPY in a background thread.

    The producer encodes each frame (and updates its table's sha256) in its own thread and queues
    the chunks; the COPY thread runs one COPY statement per run of consecutive frames of one table,
    ending it and starting the next when the table changes. So a load whose renderer interleaves two
    tables (readings and their daily rollup) never waits for a COPY to drain before the next starts:
    psycopg releases the GIL on network I/O, and rendering overlaps sending throughout.
    `statements[name]` is the COPY statement of table `name`; `shas[name]` its checksum (shared with
    other COPYs of the load). The connection must not be used by anyone else until the stream is closed.
    """

    def __init__(self, conn, statements: dict[str, sql.Composed], shas: dict, *, queue_size: int = 4,
                 chunk_rows: int = CHUNK_ROWS):
        self.conn, self.statements, self.shas, self.chunk_rows = conn, statements, shas, chunk_rows
        self.rows = {name: 0 for name in statements}
        self.nbytes = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max(queue_size, 1))
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> CopyStream:
        self._thread = threading.Thread(target=self._run, name="copy-stream", daemon=True)
        self._thread.start()
        return self

    def write(self, frame: Frame) -> int:
        """Encode and queue a frame (chunk by chunk); returns its row count."""
        name = frame.table.qualified
        if name not in self.statements:
            raise ValueError(f"{name} is not one of this stream's tables {list(self.statements)}")
        n = check_frame(frame)
        for start in range(0, n, self.chunk_rows):
            chunk = encode_chunk(frame, start, start + self.chunk_rows)
            self.shas[name].update(chunk)
            self.nbytes += len(chunk)
            self._put((frame.table, min(self.chunk_rows, n - start), chunk))
        self.rows[name] += n
        return n

    def _put(self, item) -> None:
        while True:  # bounded put that notices a dead consumer
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        table, sent = None, 0
        try:
            with self.conn.cursor() as cur, ExitStack() as stack:
                copy = None
                while (item := self._queue.get()) is not _END:
                    if item is _ABORT:
                        raise CopyAborted("the producer failed")
                    if table is None or item[0].qualified != table.qualified:
                        self._end(copy, stack, cur, table, sent)
                        table, sent = item[0], 0
                        copy = stack.enter_context(cur.copy(self.statements[table.qualified]))
                        copy.write(HEADER)
                    copy.write(item[2])
                    sent += item[1]
                self._end(copy, stack, cur, table, sent)
        except BaseException as e:  # handed to the producer
            self._error = e
            while True:  # unblock a producer waiting on a full queue
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break

    @staticmethod
    def _end(copy, stack: ExitStack, cur, table: Table | None, sent: int) -> None:
        """End the running COPY statement, if any, and hold the server's row count to what was sent."""
        if copy is None:
            return
        copy.write(TRAILER)
        stack.close()
        if cur.rowcount != sent:
            raise RuntimeError(f"COPY into {table.qualified} stored {cur.rowcount} rows but {sent} were "
                               f"sent: the load is rolled back")

    def close(self, exc: BaseException | None = None) -> None:
        """Finish the COPYs (or abort them when exc is given) and re-raise a COPY error."""
        if self._thread is None:
            return
        thread, self._thread = self._thread, None
        while thread.is_alive():
            try:
                self._queue.put(_ABORT if exc is not None else _END, timeout=0.1)
                break
            except queue.Full:
                continue
        thread.join()
        if exc is None and self._error is not None:
            raise self._error

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)
