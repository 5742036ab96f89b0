"""Streaming frames into PostgreSQL with binary COPY; the encoding lives in encode.py.

Binary COPY is the fastest way in (docs/binary-copy.md). A
CopyWriter sends one table's frames through one COPY statement and keeps a sha256 of the tuple
bytes (no header or trailer: the checksum does not depend on how rows were split into frames,
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
           "CopyWriter", "check_frame", "copy_statement", "encode_chunk", "encode_frame",
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


class CopyWriter:
    """Streams frames of one table into one binary COPY; counts rows, bytes and a sha256.

    `relation` is the target in the table's schema (default: the table; a partition such as
    `batch_y2016` for a year load). With `threaded=True` the COPY runs in a background thread fed
    by a bounded queue: psycopg releases the GIL on network I/O, so the caller can generate and
    encode the next chunk while the previous one is sent. The connection must not be used by
    anyone else until the writer is closed.
    """

    def __init__(self, conn, table: Table, relation: str | None = None, *, freeze: bool = False,
                 threaded: bool = False, queue_size: int = 4, chunk_rows: int = CHUNK_ROWS,
                 sha=None):
        self.conn, self.table, self.chunk_rows = conn, table, chunk_rows
        self.statement = copy_statement(table, relation, freeze=freeze)
        self.threaded = threaded
        self.rows = 0
        self.nbytes = 0
        self._sha = sha if sha is not None else hashlib.sha256()  # may be shared across COPYs
        self._queue: queue.Queue = queue.Queue(maxsize=max(queue_size, 1))
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stack: ExitStack | None = None
        self._copy = None
        self._copy_stack = ExitStack()
        self._cur = None
        self.server_rows: int | None = None  # the server's own count of rows the COPY stored

    @property
    def checksum(self) -> str:
        return self._sha.hexdigest()

    def __enter__(self) -> CopyWriter:
        if self.threaded:
            self._thread = threading.Thread(target=self._run, name=f"copy-{self.table.name}",
                                            daemon=True)
            self._thread.start()
        else:
            self._stack = ExitStack()
            try:
                cur = self._cur = self._stack.enter_context(self.conn.cursor())
                self._copy_stack = ExitStack()
                self._copy = self._copy_stack.enter_context(cur.copy(self.statement))
                self._copy.write(HEADER)
            except BaseException:
                self._copy_stack.close()
                self._stack.close()
                raise
        return self

    def write(self, frame: Frame) -> int:
        """Encode and send a frame (chunk by chunk); returns its row count."""
        if frame.table.qualified != self.table.qualified:
            raise ValueError(f"writer for {self.table.qualified} got a frame of {frame.table.qualified}")
        for chunk in iter_chunks(frame, self.chunk_rows):
            self._send(chunk)
        self.rows += len(frame)
        return len(frame)

    def _send(self, chunk) -> None:
        self._sha.update(chunk)  # here, not in the COPY thread: that one only feeds the server
        self.nbytes += len(chunk)
        if not self.threaded:
            self._copy.write(chunk)
            return
        while True:  # bounded put that notices a dead consumer
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(chunk, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            with self.conn.cursor() as cur:
                with cur.copy(self.statement) as copy:
                    copy.write(HEADER)
                    while (item := self._queue.get()) is not _END:
                        if item is _ABORT:
                            raise CopyAborted("the producer failed")
                        copy.write(item)
                    copy.write(TRAILER)
                self.server_rows = cur.rowcount
        except BaseException as e:  # handed to the producer
            self._error = e
            while True:  # unblock a producer waiting on a full queue
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break

    def close(self, exc: BaseException | None = None) -> None:
        """Finish the COPY (or abort it when exc is given) and re-raise a COPY error."""
        if not self.threaded:
            if self._stack is not None:
                stack, self._stack = self._stack, None
                if exc is None:
                    self._copy.write(TRAILER)
                    with stack:
                        self._copy_stack.close()  # COPY ends here; the cursor still holds its row count
                        self.server_rows = self._cur.rowcount
                    self._verify()
                else:
                    self._copy_stack.__exit__(type(exc), exc, exc.__traceback__)
                    stack.__exit__(type(exc), exc, exc.__traceback__)
            return
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
        if exc is None:
            self._verify()

    def _verify(self) -> None:
        if self.server_rows != self.rows:
            raise RuntimeError(f"COPY into {self.table.qualified} stored {self.server_rows} rows but "
                               f"{self.rows} were sent: the load is rolled back")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)
