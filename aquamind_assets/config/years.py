"""The stored years: the one place their range is written (dbt_project.yml's vars repeat it; a test
keeps the two equal). Everything else derives its dates from these names."""
from __future__ import annotations

FIRST_YEAR = 2015  # the first stored year; anything that started earlier belongs to it
LAST_YEAR = 2024  # the last stored year; nothing stored is dated after its last day
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
FIRST_DATE = f"{FIRST_YEAR}-01-01"  # ISO dates of the first and last stored day
LAST_DATE = f"{LAST_YEAR}-12-31"
AFTER_LAST_DATE = f"{LAST_YEAR + 1}-01-01"  # the open end of a window still running on LAST_DATE
YEAR_SPAN = f"{FIRST_YEAR}-{LAST_YEAR}"
