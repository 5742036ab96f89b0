"""Subprocess for the SIGKILL test: replaces a year with many frames, slowly, until killed."""
from __future__ import annotations

import sys
import time

import psycopg
from wh_specs import READING, reading_frame

from aquamind_assets.warehouse.load import YearLoad


def frames(year: int):
    for i in range(10_000):
        yield reading_frame(year, 20_000, seed=1000 + i)
        if i == 2:
            print("COPYING", flush=True)
        time.sleep(0.02)


def main(url: str, year: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        with YearLoad(conn, asset="readings", year=year, tables=[READING], scenario_hash="s1",
                      code_version="test") as load:
            load.write_stream(frames(year))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
