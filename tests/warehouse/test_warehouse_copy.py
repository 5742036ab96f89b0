"""The binary encoder round-trips every column type exactly, on the fast and the slow path."""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import time

import numpy as np
import pandas as pd
import psycopg
import pytest
from wh_specs import ALL_TYPES, ALL_TYPES_NULL, STORAGE, TEST_TABLES, reading_frame

from aquamind_assets.warehouse import ddl
from aquamind_assets.warehouse.copy import (HEADER, TRAILER, CopyStream, copy_statement, encode_chunk,
                                            encode_frame, iter_chunks)
from aquamind_assets.warehouse.schema import Frame

EPOCH_D = dt.date(1970, 1, 1)
EPOCH_T = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
I2, I4, I8 = (np.iinfo(t) for t in (np.int16, np.int32, np.int64))


def all_types_frame(year=2016) -> Frame:
    """Extremes of every fixed-width type, no NULLs (the fast path)."""
    n = 6
    return Frame(ALL_TYPES, {
        "year": np.full(n, year, np.int16), "k": np.arange(n, dtype=np.int32),
        "i2": np.array([I2.min, I2.max, 0, -1, 1, 7], np.int16),
        "i4": np.array([I4.min, I4.max, 0, -1, 1, 7], np.int32),
        "i8": np.array([I8.min, I8.max, 0, -1, 1, 7], np.int64),
        "f4": np.array([np.float32(1.1), -0.0, np.inf, -np.inf, np.nan, 3.4e38], np.float32),
        "f8": np.array([0.1, -0.0, np.inf, -np.inf, np.nan, 1e-300], np.float64),
        "b": np.array([True, False, True, False, False, True]),
        "d": np.array([0, 10957, -1, 20088, 2_000_000, -700_000], np.int32),
        "ts": np.array([0, 946_684_800_000_000, -1, 1_735_689_599_999_999,
                        253_402_300_799_000_000, -62_135_596_800_000_000], np.int64),
    })


def null_frame(year=2016) -> Frame:
    """NULLs in every nullable column (masked arrays and None), text with unicode and ''."""
    n = 6
    m = np.array([False, True, False, True, False, False])
    ma = lambda v, dtype: np.ma.masked_array(np.array(v, dtype), mask=m)  # noqa: E731
    return Frame(ALL_TYPES_NULL, {
        "year": np.full(n, year, np.int16), "k": np.arange(n, dtype=np.int32),
        "i2": ma([I2.min, 9, I2.max, 9, 0, 5], np.int16),
        "i4": np.array([I4.max, None, 3, None, I4.min, 0], dtype=object),
        "i8": ma([I8.max, 9, I8.min, 9, 0, 5], np.int64),
        "f4": ma([1.5, 9, np.nan, 9, -0.0, 2.25], np.float32),
        "f8": np.array([None, 0.1, np.nan, None, 1e300, -2.5], dtype=object),
        "b": ma([True, True, False, True, True, False], bool),
        "d": ma([0, 9, 10957, 9, 20088, -1], np.int32),
        "ts": np.array(["2016-01-01T00:00:00.000001", "NaT", "1999-12-31T23:59:59.999999", "NaT",
                        "2024-12-31T12:00", "1970-01-01"], dtype="datetime64[us]"),
        "t": np.array(["plain", None, "", "Tórshavn ÆØÅ æøå", "日本語 😀🐟", None], dtype=object),
        "t2": np.array(["a", "", "€", "x" * 1000, "tab\there", "new\nline"], dtype=object),
    })


def expected(frame: Frame) -> list[tuple]:
    """The Python values psycopg should read back for each row, from the frame's arrays."""
    rows = []
    for i in range(len(frame)):
        row = []
        for c in frame.table.columns:
            a = frame.columns[c.name]
            masked = isinstance(a, np.ma.MaskedArray) and bool(np.ma.getmaskarray(a)[i])
            v = None if masked else (np.ma.getdata(a)[i] if isinstance(a, np.ma.MaskedArray) else a[i])
            if v is None or (isinstance(v, np.datetime64) and np.isnat(v)):
                row.append(None)
                continue
            if c.pgtype == "date":
                v = EPOCH_D + dt.timedelta(days=int(v))
            elif c.pgtype == "timestamptz":
                us = int(v.astype("datetime64[us]").astype(np.int64)) if isinstance(v, np.datetime64) else int(v)
                v = EPOCH_T + dt.timedelta(microseconds=us)
            elif c.pgtype in ("float4", "float8"):
                v = np.float32(v) if c.pgtype == "float4" else float(v)
            elif c.pgtype == "bool":
                v = bool(v)
            elif c.pgtype != "text":
                v = int(v)
            row.append(v)
        rows.append(tuple(row))
    return rows


def same(a, b) -> bool:
    if isinstance(b, np.float32):  # float4 comes back as the shortest decimal: compare as float32
        a, b = float(np.float32(a)), float(b)
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def test_fast_and_slow_paths_give_identical_bytes():
    f = all_types_frame()
    fast = bytes(encode_chunk(f))
    assert fast == bytes(encode_chunk(f, force_slow=True))
    assert len(fast) == len(f) * (2 + 10 * 4 + (2 + 4 + 2 + 4 + 8 + 4 + 8 + 1 + 4 + 8))
    # chunking does not change the bytes, so neither does it change the checksum
    assert b"".join(iter_chunks(f, 1)) == b"".join(iter_chunks(f, 4)) == fast
    full = encode_frame(f)
    assert full.startswith(HEADER) and full.endswith(TRAILER) and len(HEADER) == 19


def test_encoder_refuses_bad_values():
    f = all_types_frame()
    f.columns["i4"] = np.ma.masked_array(f.columns["i4"], mask=[1, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="not nullable"):
        encode_chunk(f)
    f = all_types_frame()
    f.columns["i2"] = np.array([70000, 0, 0, 0, 0, 0], np.int64)
    with pytest.raises(ValueError, match="out of int2 range"):
        encode_chunk(f)
    f = all_types_frame()
    f.columns["i4"] = np.zeros(6, np.float64)
    with pytest.raises(TypeError):
        encode_chunk(f)
    f = null_frame()
    f.columns["t2"] = np.array(["a", None, "b", "c", "d", "e"], dtype=object)
    with pytest.raises(ValueError, match="not nullable"):
        encode_chunk(f)
    f = null_frame()
    del f.columns["t"]
    with pytest.raises(ValueError, match="missing"):
        encode_frame(f)


@pytest.fixture(scope="module")
def test_db(db_url):
    from wh_specs import READING

    from aquamind_assets.warehouse.load import YearLoad

    with psycopg.connect(db_url, autocommit=True) as c:
        ddl.create_warehouse(c, years=(2016,), tables=TEST_TABLES, storage=STORAGE)
        # an empty load makes the readings' 2016 relation on either path (a hypertable's chunk comes with its load)
        with YearLoad(c, asset="copy_test", year=2016, tables=[READING], scenario_hash="s", code_version="t"):
            pass
    return db_url


def stream(conn, *tables, queue_size: int = 4, chunk_rows: int = 10_000) -> CopyStream:
    """A CopyStream into the 2016 partitions of `tables`."""
    return CopyStream(conn, {t.qualified: copy_statement(t, t.partition_name(2016)) for t in tables},
                      {t.qualified: hashlib.sha256() for t in tables}, queue_size=queue_size,
                      chunk_rows=chunk_rows)


@pytest.mark.parametrize("make", [all_types_frame, null_frame], ids=["fast", "slow"])
def test_round_trip(test_db, conn, make):
    frame = make()
    table = frame.table
    conn.execute(f"TRUNCATE {table.qualified}")
    with conn.transaction(), stream(conn, table, chunk_rows=4) as w:
        w.write(frame)
    assert w.rows[table.qualified] == len(frame)
    payload = b"".join(iter_chunks(frame))
    assert w.nbytes == len(payload) and w.shas[table.qualified].hexdigest() == hashlib.sha256(payload).hexdigest()
    cols = ", ".join(table.column_names)
    got = conn.execute(f"SELECT {cols} FROM {table.qualified} ORDER BY k").fetchall()
    want = expected(frame)
    assert len(got) == len(want)
    for g, e in zip(got, want):
        assert all(same(a, b) for a, b in zip(g, e)), (g, e)
    # PostgreSQL's own binary output of the stored rows is byte for byte what we sent
    out = bytearray()
    with conn.cursor().copy(f"COPY (SELECT {cols} FROM {table.qualified} ORDER BY k) "
                            "TO STDOUT (FORMAT BINARY)") as cp:
        for block in cp:
            out += block
    assert bytes(out) == encode_frame(frame)


def test_stream_of_interleaved_tables(test_db, conn):
    """Frames of two tables in turn (readings and their rollup, in a load): every row stored in its
    table, and each table's checksum the same as when its frames are sent alone."""
    from wh_specs import EVENT, READING, event_frame
    conn.execute("TRUNCATE wh_test.reading_y2016, wh_test.event_y2016")  # a hypertable's TRUNCATE would drop its chunks
    readings = [reading_frame(2016, 50_000, seed=s) for s in range(4)]
    events = [event_frame(2016, np.arange(100 * s, 100 * s + 100)) for s in range(4)]
    with conn.transaction(), stream(conn, READING, EVENT, queue_size=2) as w:
        for r, e in zip(readings, events):
            w.write(r)
            w.write(e)
    assert w.rows == {READING.qualified: 200_000, EVENT.qualified: 400}
    assert conn.execute("SELECT count(*), sum(sensor_id) FROM wh_test.reading").fetchone() == (
        200_000, sum(int(f.columns["sensor_id"].sum()) for f in readings))
    assert conn.execute("SELECT count(*), count(DISTINCT id) FROM wh_test.event").fetchone() == (400, 400)
    alone = hashlib.sha256(b"".join(c for f in readings for c in iter_chunks(f, 10_000))).hexdigest()
    assert w.shas[READING.qualified].hexdigest() == alone


def test_stream_aborts_on_producer_error(test_db, conn):
    from wh_specs import READING
    conn.execute("TRUNCATE wh_test.reading_y2016")
    with pytest.raises(RuntimeError, match="boom"):
        with conn.transaction(), stream(conn, READING) as w:
            w.write(reading_frame(2016, 1000))
            raise RuntimeError("boom")
    bad = reading_frame(2016, 1000)
    bad.columns["sensor_id"] = bad.columns["sensor_id"].astype(np.float64)
    with pytest.raises(TypeError):
        with conn.transaction(), stream(conn, READING) as w:
            w.write(reading_frame(2016, 1000))
            w.write(bad)
    assert conn.execute("SELECT count(*) FROM wh_test.reading").fetchone() == (0,)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_slow_path_encodes_two_million_rows_quickly():
    """Text and NULLs take the slow path; ~2 M rows must still take seconds, not minutes."""
    from wh_specs import event_frame
    n = 2_000_000
    f = event_frame(2016, np.arange(n))
    t = time.perf_counter()
    size = sum(len(c) for c in iter_chunks(f))
    assert time.perf_counter() - t < 10
    notes = [x for x in f.columns["note"] if x is not None]
    assert size == n * (2 + 4 + 2 + 4 + 4 + 4) + sum(map(len, notes))


def test_vocabulary_text_path_round_trips(test_db, conn):
    """Text from a small vocabulary (a feeding method) is encoded in grouped packed arrays; the rows
    stored are exactly the rows given, and the bytes differ from the generic path only in row order."""
    from aquamind_assets.warehouse.schema import C, yearly

    table = yearly("wh_vocab", "meal", C("k", "int4"), C("method", "text"), C("note", "text"), C("v", "float4"))
    ddl.create_warehouse(conn, years=[2016], tables=[table], storage=STORAGE)
    n = 5000
    rng = np.random.default_rng(1)
    frame = Frame(table, {"k": np.arange(n, dtype=np.int32),
                          "method": np.array(["AUTOMATIC", "MANUAL", "BROADCAST"], dtype=object)[rng.integers(0, 3, n)],
                          "note": np.array(["", "x", "late"], dtype=object)[rng.integers(0, 3, n)],
                          "v": rng.normal(size=n).astype(np.float32), "year": np.full(n, 2016, np.int16)})
    grouped, generic = bytes(encode_chunk(frame)), bytes(encode_chunk(frame, force_slow=True))
    assert len(grouped) == len(generic) and grouped != generic and sorted(grouped) == sorted(generic)
    with conn.transaction(), stream(conn, table) as w:
        w.write(frame)
    got = conn.execute("SELECT k, method, note, v FROM wh_vocab.meal ORDER BY k").fetchall()
    assert [(r[0], r[1], r[2]) for r in got] == list(zip(range(n), frame.columns["method"], frame.columns["note"]))
    assert np.array_equal(np.array([r[3] for r in got], np.float32), frame.columns["v"])


def test_a_vocabulary_with_nulls_encodes_as_its_words():
    """A Categorical text column on the generic path (another column has NULLs) gives the bytes of
    the same words as Python strings: each word once, gathered by code; a missing code is NULL."""
    from aquamind_assets.warehouse.schema import C, Table

    table = Table("wh_vocab", "event", (C("id", "int4"), C("kind", "text", True), C("replaces", "int4", True)))
    rng = np.random.default_rng(3)
    n = 2000
    codes = rng.integers(-1, 3, n).astype(np.int8)
    words = ["commissioned", "retired", "rebuilt é"]
    kind = pd.Categorical.from_codes(codes, categories=words)
    replaces = np.where(rng.random(n) < 0.3, None, rng.integers(1, 99, n)).astype(object)
    as_strings = np.array([None if c < 0 else words[c] for c in codes], dtype=object)
    cols = {"id": np.arange(n, dtype=np.int32), "replaces": replaces}
    assert bytes(encode_chunk(Frame(table, {**cols, "kind": kind}))) == \
        bytes(encode_chunk(Frame(table, {**cols, "kind": as_strings})))
    with pytest.raises(ValueError, match="NULL in a column that is not nullable"):
        strict = Table("wh_vocab", "strict", (C("id", "int4"), C("kind", "text")))
        encode_chunk(Frame(strict, {"id": np.arange(n, dtype=np.int32), "kind": kind}), force_slow=True)
