"""Rules for `environmental_readings`: owning year, inside the assignment window, the sensor's own
container and parameter, salinity only at sea, plausible values.

Sensor faults (environmental.sensor_fault) are not violations: a gap is missing rows, and spikes,
drift and calibration offsets stay inside the physical range these rules check. A range rule tells
impossible values; telling faulty from true values is the detectors' job, scored against the faults
(the mart fault_detection_scores).

The readings are the largest table: a load checks every row as a frame streams into COPY
(reading_frames.py, against the stored dimensions) and re-checks a page sample of the stored rows
in SQL; `aquamind validate` runs the full SQL audit below, one scan of the year for all rules.
"""
from __future__ import annotations

from ..config.years import FIRST_YEAR, LAST_DATE
from ..warehouse.checks import Check
from .common import orphans, owning_year
from .reading_frames import FRAME_RULES  # noqa: F401  (part of this module's rule set)

R = "environmental.environmental_reading"
WHERE = {  # the violation of each rule, over r (reading), a (assignment), s (sensor), c (container), p (parameter)
    "year": f"""r.reading_time >= make_timestamptz(%(year)s + 1, 1, 1, 0, 0, 0, 'UTC')
               OR (%(year)s > {FIRST_YEAR} AND r.reading_time < make_timestamptz(%(year)s, 1, 1, 0, 0, 0, 'UTC'))""",
    "window": """(r.reading_time AT TIME ZONE 'UTC')::date < a.assignment_date
                 OR (r.reading_time AT TIME ZONE 'UTC')::date >= a.departure_date""",
    "sensor": """s.container_id IS DISTINCT FROM r.container_id OR s.parameter_id IS DISTINCT FROM r.parameter_id
                 OR (p.sea_only AND NOT c.is_sea)""",
    "value": "r.value < p.min_value OR r.value > p.max_value OR (p.code = 'temperature' AND r.value > 18 AND c.is_sea)",
}
COUNTERS = f"""DROP TABLE IF EXISTS pg_temp.reading_rule_counts;
CREATE TEMP TABLE reading_rule_counts AS
SELECT count(*) AS n, count(*) FILTER (WHERE {WHERE["year"]}) AS bad_year,
       count(a.id) AS n_window, count(*) FILTER (WHERE {WHERE["window"]}) AS bad_window,
       count(*) FILTER (WHERE {WHERE["sensor"]}) AS bad_sensor, count(*) FILTER (WHERE {WHERE["value"]}) AS bad_value
FROM {R} r
LEFT JOIN batch.batch_container_assignment a ON a.id = r.assignment_id
LEFT JOIN infrastructure.sensor s ON s.id = r.sensor_id
JOIN infrastructure.container c ON c.id = r.container_id
JOIN environmental.environmental_parameter p ON p.id = r.parameter_id
WHERE r.year = %(year)s"""


def _counted(name: str, description: str, examined: str, violations: str, sample_where: str,
             min_examined: int = 1) -> Check:
    return Check(name, description, f"SELECT {examined}, {violations} FROM reading_rule_counts",
                 f"""SELECT r.reading_time, r.sensor_id, r.container_id, r.assignment_id, r.parameter_id, r.value
                     FROM {R} r LEFT JOIN batch.batch_container_assignment a ON a.id = r.assignment_id
                     LEFT JOIN infrastructure.sensor s ON s.id = r.sensor_id
                     JOIN infrastructure.container c ON c.id = r.container_id
                     JOIN environmental.environmental_parameter p ON p.id = r.parameter_id
                     WHERE r.year = %(year)s AND ({sample_where}) LIMIT 5""",
                 min_examined=min_examined, prepare_sql=COUNTERS)


# the load's SQL over stored rows: a repeatable 0.2 % page sample through the same joins as the audit
# (0.2 % of the year's pages, at least 64 of them: a tiny year still gets thousands of rows)
SAMPLE_PCT = """(SELECT greatest(0.2, least(100, 6400.0 / greatest(sum(relpages), 1))) FROM pg_class
                 WHERE relname = 'environmental_reading_y' || %(year)s)"""
# The planner cannot see the sample's size (a subquery) and plans for the whole year: JIT then
# compiles for ~1 s a query that reads 30 K rows. Off for the rest of the load's transaction.
SAMPLED = "SET LOCAL jit = off;\n" + COUNTERS.replace("reading_rule_counts", "reading_sample_counts").replace(
    f"FROM {R} r\n", f"FROM {R} r TABLESAMPLE SYSTEM ({SAMPLE_PCT}) REPEATABLE (%(year)s)\n")
assert "TABLESAMPLE" in SAMPLED
SAMPLE_RULE = Check(
    "environmental_reading_stored_sample", "a repeatable page sample (0.2 %, at least 64 pages) of the stored readings, re-checked "
    "in SQL against the stored assignments, sensors and parameter ranges (the full scan: aquamind validate)",
    "SELECT n, bad_year + bad_window + bad_sensor + bad_value FROM reading_sample_counts",
    sample_sql=_counted("", "", "", "", " OR ".join(f"({w})" for w in WHERE.values())).sample_sql,
    min_examined=1, prepare_sql=SAMPLED)

AUDIT = [
    _counted("environmental_reading_owning_year", f"the owning year is the reading's year; no date after {LAST_DATE}",
             "n", "bad_year", WHERE["year"]),
    _counted("environmental_reading_in_assignment_window",
             "every reading lies inside its assignment's window (docs/domain.md §2)", "n_window", "bad_window",
             WHERE["window"], min_examined=0),
    _counted("reading_sensor_matches", "a reading comes from a sensor of its own container and parameter, "
             "and salinity is read only in sea containers (docs/domain.md §7, §10)", "n", "bad_sensor", WHERE["sensor"]),
    _counted("reading_in_range", "every value lies within its parameter's physical range; sea temperature "
             "never above 18 C (docs/domain.md §7)", "n", "bad_value", WHERE["value"]),
]
D = "environmental.environmental_reading_daily"


def _rollup_matches(name: str, description: str, readings_where: str, daily_where: str) -> Check:
    """The stored daily rollup against the stored readings aggregated per sensor and day (a full
    outer join: a sensor-day missing on either side is a violation)."""
    joined = f"""WITH r AS (SELECT sensor_id, (reading_time AT TIME ZONE 'UTC')::date AS reading_date,
                                   min(container_id) AS container_id, min(parameter_id) AS parameter_id,
                                   count(*) AS n, avg(value) AS mean, min(value) AS lo, max(value) AS hi
                            FROM {R} WHERE year = %(year)s AND {readings_where} GROUP BY 1, 2),
                     d AS (SELECT * FROM {D} WHERE year = %(year)s AND {daily_where}),
                     j AS (SELECT coalesce(r.sensor_id, d.sensor_id) AS sensor_id,
                                  coalesce(r.reading_date, d.reading_date) AS reading_date, r.n, d.reading_count,
                                  r.mean, d.mean_value, (d.sensor_id IS NULL OR r.sensor_id IS NULL
                                  OR r.n <> d.reading_count OR r.lo <> d.min_value OR r.hi <> d.max_value
                                  OR r.container_id <> d.container_id OR r.parameter_id <> d.parameter_id
                                  OR abs(r.mean - d.mean_value) > 1e-6 * greatest(1, abs(r.mean))) AS bad
                           FROM r FULL JOIN d ON d.sensor_id = r.sensor_id AND d.reading_date = r.reading_date)"""
    return Check(name, description, f"{joined} SELECT count(*), count(*) FILTER (WHERE bad) FROM j",
                 f"{joined} SELECT * FROM j WHERE bad LIMIT 5")


# three days of the year (mid-January, mid-May, mid-September), each a range on both tables' BRIN
SAMPLE_DAYS = [f"(make_date(%(year)s, 1, 15) + {120 * k})" for k in range(3)]
ROLLUP_SAMPLE = _rollup_matches(
    "environmental_reading_daily_stored_sample", "the stored daily rollup of three days of the year (15 January "
    "and every 120 days after) equals the stored readings of those days aggregated per sensor and day (the "
    "whole year: aquamind validate)",
    "(" + " OR ".join(f"(reading_time >= {d}::timestamp AT TIME ZONE 'UTC' AND reading_time < ({d} + 1)::timestamp "
                      f"AT TIME ZONE 'UTC')" for d in SAMPLE_DAYS) + ")",
    f"reading_date IN ({', '.join(SAMPLE_DAYS)})")
ROLLUP_RULE = _rollup_matches(
    "environmental_reading_daily_matches_readings", "each sensor-day of the daily rollup holds the count, mean, "
    "minimum and maximum of that sensor's readings of the day, and every sensor-day with readings has its row",
    "true", "true")
RULES = [owning_year("environmental.environmental_event", "start_date"), SAMPLE_RULE, ROLLUP_SAMPLE, ROLLUP_RULE]
CROSS_YEAR = [orphans(R, "reading")]
