"""Small table specs and frame builders shared by the warehouse tests and their subprocess."""
from __future__ import annotations

import os

import numpy as np

from aquamind_assets.warehouse.schema import C, Frame, Table, yearly

ALL_TYPES = yearly(
    "wh_test", "all_types", C("k", "int4"), C("i2", "int2"), C("i4", "int4"), C("i8", "int8"),
    C("f4", "float4"), C("f8", "float8"), C("b", "bool"), C("d", "date"), C("ts", "timestamptz"),
    time_column="ts", indexes=(("k",),))
ALL_TYPES_NULL = yearly(
    "wh_test", "all_types_null", C("k", "int4"), C("i2", "int2", True), C("i4", "int4", True),
    C("i8", "int8", True), C("f4", "float4", True), C("f8", "float8", True), C("b", "bool", True),
    C("d", "date", True), C("ts", "timestamptz", True), C("t", "text", True), C("t2", "text"))
READING = yearly(
    "wh_test", "reading", C("reading_time", "timestamptz"), C("sensor_id", "int4"),
    C("value", "float4"), time_column="reading_time", indexes=(("sensor_id",),), hypertable=True)
EVENT = yearly("wh_test", "event", C("id", "int4"), C("note", "text", True))
PARENT = Table("wh_test", "parent", (C("id", "int4"), C("name", "text")), primary_key=("id",),
               unique=(("name",),))
CHILD = Table("wh_test", "child", (C("id", "int4"), C("parent_id", "int4", True)),
              primary_key=("id",), foreign_keys=(("parent_id", "wh_test.parent(id)"),))
# the storage path the suite runs on (DEVELOPERS.md): the warehouse tests create theirs on it
STORAGE = os.environ.get("AQUAMIND_STORAGE") or "native"
TEST_TABLES = [ALL_TYPES, ALL_TYPES_NULL, READING, EVENT, PARENT, CHILD]
TEST_YEARS = (2015, 2016, 2017)

YEAR_START_US = {y: (np.datetime64(f"{y}-01-01", "us") - np.datetime64(0, "us")).astype(np.int64)
                 for y in range(2000, 2030)}


def reading_frame(year: int, n: int, seed: int = 0) -> Frame:
    rng = np.random.default_rng(seed)
    t = YEAR_START_US[year] + np.sort(rng.integers(0, 365 * 86_400_000_000, n))
    return Frame(READING, {"year": np.full(n, year, np.int16), "reading_time": t.astype(np.int64),
                           "sensor_id": rng.integers(1, 500, n).astype(np.int32),
                           "value": rng.normal(10, 2, n).astype(np.float32)})


def event_frame(year: int, ids, note: str = "x") -> Frame:
    ids = np.asarray(ids, np.int32)
    notes = np.array([None if i % 3 == 0 else f"{note}{i}" for i in ids], dtype=object)
    return Frame(EVENT, {"year": np.full(len(ids), year, np.int16), "id": ids, "note": notes})
