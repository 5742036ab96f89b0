"""Rule builders shared by every yearly table: rows inside their assignment window, owning year."""
from __future__ import annotations

from ..warehouse.checks import Check
from ..config.years import AFTER_LAST_DATE, FIRST_YEAR, LAST_DATE

LAST_DAY = f"DATE '{LAST_DATE}'"  # the last stored day, as SQL
OPEN_END = f"DATE '{AFTER_LAST_DATE}'"  # the end of a window still open on it


def in_window(table: str, date_col: str, what: str, ts: bool = False, min_examined: int = 0) -> Check:
    """Rows whose assignment is stored lie inside its window [assignment_date, departure_date).

    A row whose assignment belongs to a year not loaded yet is not examined here; `aquamind
    validate` (all years) counts orphans. So a year may examine nothing here (a harvest in a pen
    stocked in a year not loaded yet); tests assert a complete load examines rows.
    """
    d = f"t.{date_col}::date" if ts else f"t.{date_col}"
    return Check(
        name=f"{table.split('.')[-1]}_in_assignment_window",
        description=f"every {what} lies inside its assignment's window (docs/domain.md §2)",
        count_sql=f"""SELECT count(*), count(*) FILTER (WHERE {d} < a.assignment_date
                          OR (a.departure_date IS NOT NULL AND {d} >= a.departure_date))
                      FROM {table} t JOIN batch.batch_container_assignment a ON a.id = t.assignment_id
                      WHERE t.year = %(year)s""",
        sample_sql=f"""SELECT t.assignment_id, {d} AS date, a.assignment_date, a.departure_date
                       FROM {table} t JOIN batch.batch_container_assignment a ON a.id = t.assignment_id
                       WHERE t.year = %(year)s AND ({d} < a.assignment_date
                          OR (a.departure_date IS NOT NULL AND {d} >= a.departure_date)) LIMIT 5""",
        min_examined=min_examined)


def owning_year(table: str, date_col: str, ts: bool = False) -> Check:
    d = f"{date_col}::date" if ts else date_col
    cond = f"year <> greatest(extract(year FROM {d})::int, {FIRST_YEAR}) OR {d} > {LAST_DAY}"
    return Check(
        name=f"{table.split('.')[-1]}_owning_year",
        description=f"the owning year is the start date's year ({FIRST_YEAR} for earlier rows); no date after {LAST_DATE}",
        count_sql=f"SELECT count(*), count(*) FILTER (WHERE {cond}) FROM {table} WHERE year = %(year)s",
        sample_sql=f"SELECT year, {d} AS date FROM {table} WHERE year = %(year)s AND ({cond}) LIMIT 5")


def orphans(table: str, what: str) -> Check:
    """Cross-year: every row's assignment exists (run by `aquamind validate` once all years are in)."""
    return Check(
        name=f"{table.split('.')[-1]}_has_assignment",
        description=f"every {what} carries the id of a stored assignment",
        count_sql=f"""SELECT count(*), count(*) FILTER (WHERE a.id IS NULL) FROM {table} t
                      LEFT JOIN batch.batch_container_assignment a ON a.id = t.assignment_id""",
        sample_sql=f"""SELECT t.assignment_id FROM {table} t LEFT JOIN batch.batch_container_assignment a
                       ON a.id = t.assignment_id WHERE a.id IS NULL LIMIT 5""")
