"""pandera schemas derived from the table specs: every frame is checked before it is written.

Types and nullability come from the spec; value rules come from column-name conventions (counts
are never negative, dates lie in the stored range, the owning year is a partition), so a new
table gets the same guards without a hand-written schema.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..config.years import FIRST_YEAR, LAST_DATE as LAST_STORED_DATE, LAST_YEAR
from .schema import Frame, Table

_EPOCH = np.datetime64("1970-01-01", "D")
# warm-start rows (opening state, early assignments) reach back to the simulation's start, a
# decade before the first stored year at most
FIRST_DATE = int((np.datetime64(f"{FIRST_YEAR - 10}-01-01", "D") - _EPOCH).astype(int))
LAST_DATE = int((np.datetime64(LAST_STORED_DATE, "D") - _EPOCH).astype(int))  # days since 1970-01-01
LAST_TIME_US = (LAST_DATE + 1) * 86_400_000_000 - 1
NON_NEGATIVE = ("count", "population", "deaths", "biomass", "feed", "amount", "quantity", "weight",
                "eggs", "egg_count", "fish", "sample_size", "transferred", "mortality", "cost", "score",
                "sampled", "stocked", "capacity", "volume", "unit_count", "percentage")
DTYPES = {"int2": "int16", "int4": "int32", "int8": "int64", "float4": "float32", "float8": "float64",
          "bool": "bool", "date": "int32", "timestamptz": "int64", "text": "object"}


def _is_text(s: pd.Series) -> bool:
    """Text: pandas' string dtype, or a small vocabulary (a Categorical, see encode.py) whose words
    are all str; judged on the dtype and the words, never value by value."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return all(isinstance(w, str) for w in s.cat.categories)
    return pd.api.types.is_string_dtype(s) or len(s) == 0 or bool(s.isna().all())


TEXT = pa.Check(_is_text, name="text", error="values are not text")


class FrameInvalid(ValueError):
    """A frame broke its schema; one line naming the table, column, rule and a failing value."""


def _checks(table: Table, name: str, pgtype: str) -> list[pa.Check]:
    checks = [TEXT] if pgtype == "text" else []
    if name == "year" and table.yearly:
        checks.append(pa.Check.in_range(FIRST_YEAR, LAST_YEAR))
    if pgtype == "date":
        checks.append(pa.Check.in_range(FIRST_DATE, LAST_DATE))
    if pgtype == "timestamptz":
        checks.append(pa.Check.le(LAST_TIME_US))
    if pgtype in ("float4", "float8"):
        checks.append(pa.Check(lambda s: pd.Series(np.isfinite(s.to_numpy(dtype=np.float64)), index=s.index),
                               name="finite"))
    if pgtype != "text" and any(k in name for k in NON_NEGATIVE) and name not in ("magnitude",):
        checks.append(pa.Check.ge(0))
    if name == "id" or name.endswith("_id"):
        checks.append(pa.Check.gt(0))
    return checks


@lru_cache(maxsize=None)
def schema_for(table: Table) -> pa.DataFrameSchema:
    cols = {c.name: pa.Column(None if c.nullable or c.pgtype == "text" else DTYPES[c.pgtype],
                              nullable=c.nullable,
                              checks=_checks(table, c.name, c.pgtype))
            for c in table.columns}
    return pa.DataFrameSchema(cols, strict=True, ordered=False, name=table.qualified)


def conform(frame: Frame) -> Frame:
    """Cast columns to the spec's dtypes, refusing any cast that would change a value."""
    out = {}
    for col in frame.table.columns:
        if col.name not in frame.columns:
            raise FrameInvalid(f"{frame.table.qualified}: column {col.name} is missing")
        v = frame.columns[col.name]
        if isinstance(v, pd.Categorical) and col.pgtype == "text":
            out[col.name] = v  # a vocabulary: codes and words, checked by the schema's `text` rule
            continue
        v = np.asarray(v)
        want = np.dtype(DTYPES[col.pgtype])
        if col.nullable or v.dtype == want:
            out[col.name] = v if (v.dtype == want or not col.nullable) else v.astype(object)
            continue
        if want.kind in "iu" and len(v):
            num = v.astype(np.float64) if v.dtype.kind in "fO" else v
            info = np.iinfo(want)
            if v.dtype.kind in "fO" and not np.all(np.equal(np.mod(num, 1), 0)):
                raise FrameInvalid(f"{frame.table.qualified}: column {col.name} holds fractional values")
            if num.min() < info.min or num.max() > info.max:
                raise FrameInvalid(f"{frame.table.qualified}: column {col.name} out of {want} range")
        out[col.name] = v.astype(want)
    extra = set(frame.columns) - set(out)
    if extra:
        raise FrameInvalid(f"{frame.table.qualified}: unexpected column {sorted(extra)[0]}")
    return Frame(frame.table, out)


def _register_backends() -> None:
    """pandera imports and registers its pandas backends on the first validation; doing it at import
    keeps that one-off cost out of the first frame's write."""
    pa.DataFrameSchema({"x": pa.Column("int64")}).validate(pd.DataFrame({"x": np.zeros(1, np.int64)}))


_register_backends()


def validate(frame: Frame) -> Frame:
    """Validate one frame (or chunk) with its table's schema; raise FrameInvalid in one line."""
    frame = conform(frame)
    df = pd.DataFrame({k: v for k, v in frame.columns.items()}, copy=False)
    try:  # inplace: the schema coerces nothing, so pandera's defensive copy of the frame is waste
        schema_for(frame.table).validate(df, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases.iloc[0]
        raise FrameInvalid(f"{frame.table.qualified}: column {fc['column']} failed {fc['check']} "
                           f"(e.g. value {fc['failure_case']!r}; {len(err.failure_cases)} failure(s))") from None
    return frame
