"""Table specifications: the one contract between the simulation's column arrays and PostgreSQL.

DDL, the binary COPY encoder and the pandera schemas are all derived from these specs, so a
column is declared once. Types are a small closed set so each maps to one numpy dtype and one
binary-COPY encoding.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# pg type -> (numpy dtype of the column array, big-endian wire dtype or None for variable width)
PG_TYPES: dict[str, tuple[str, str | None]] = {
    "int2": ("int16", ">i2"),
    "int4": ("int32", ">i4"),
    "int8": ("int64", ">i8"),
    "float4": ("float32", ">f4"),
    "float8": ("float64", ">f8"),
    "bool": ("bool", "?"),
    "date": ("int32", ">i4"),  # days since 1970-01-01 in the arrays
    "timestamptz": ("int64", ">i8"),  # microseconds since 1970-01-01 UTC in the arrays
    "text": ("object", None),
}


@dataclass(frozen=True)
class Column:
    name: str
    pgtype: str
    nullable: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if self.pgtype not in PG_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.pgtype}")

    @property
    def numpy_dtype(self) -> str:
        return PG_TYPES[self.pgtype][0]


@dataclass(frozen=True)
class Table:
    """A warehouse table. `yearly` tables carry the owning `year` column and are partitioned by it."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    yearly: bool = False
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[tuple[str, str], ...] = ()  # (column, "schema.table(column)") static only
    unique: tuple[tuple[str, ...], ...] = ()
    time_column: str | None = None  # BRIN-indexed on yearly tables
    indexes: tuple[tuple[str, ...], ...] = ()  # btree, built after a load
    description: str = ""
    hypertable: bool = False  # a TimescaleDB hypertable on the timescale storage path (storage.py)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified} has no column {name}")

    def partition_name(self, year: int) -> str:
        return f"{self.name}_y{year}"


def C(name: str, pgtype: str, nullable: bool = False, description: str = "") -> Column:
    return Column(name, pgtype, nullable, description)


def yearly(schema: str, name: str, *cols: Column, **kw) -> Table:
    """A year-partitioned table with the owning `year` column last: after the 4-byte columns it
    costs no alignment padding (12 % smaller readings rows than with year first)."""
    return Table(schema, name, (*cols, C("year", "int2", description="owning year (partition key)")),
                 yearly=True, **kw)


@dataclass
class Frame:
    """Column arrays for one table, in the table's column order; what generators hand the writer."""

    table: Table
    columns: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else len(first)
