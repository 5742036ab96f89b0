"""Rules for `environmental_readings`: in the window, the sensor's own container, plausible values,
salinity only at sea. One scan of the year's readings per rule."""
from __future__ import annotations

from ..warehouse.checks import Check
from .common import in_window, orphans, owning_year

R = "environmental.environmental_reading"
RULES = [
    owning_year(R, "reading_time", ts=True),
    owning_year("environmental.environmental_event", "start_date"),
    in_window(R, "reading_time", "reading", ts=True),
    Check("reading_sensor_matches", "a reading comes from a sensor of its own container and parameter, "
          "and salinity is read only in sea containers (REFERENCE 7, 10)",
          f"""SELECT count(*), count(*) FILTER (WHERE s.container_id <> r.container_id
                 OR s.parameter_id <> r.parameter_id OR (p.sea_only AND NOT c.is_sea))
              FROM {R} r JOIN infrastructure.sensor s ON s.id = r.sensor_id
              JOIN infrastructure.container c ON c.id = r.container_id
              JOIN environmental.environmental_parameter p ON p.id = r.parameter_id WHERE r.year = %(year)s""",
          f"""SELECT r.sensor_id, r.container_id, s.container_id AS sensor_container, p.code FROM {R} r
              JOIN infrastructure.sensor s ON s.id = r.sensor_id JOIN infrastructure.container c ON c.id = r.container_id
              JOIN environmental.environmental_parameter p ON p.id = r.parameter_id WHERE r.year = %(year)s
              AND (s.container_id <> r.container_id OR s.parameter_id <> r.parameter_id OR (p.sea_only AND NOT c.is_sea))
              LIMIT 5"""),
    Check("reading_in_range", "every value lies within its parameter's physical range; sea temperature "
          "never above 18 C (REFERENCE 7)",
          f"""SELECT count(*), count(*) FILTER (WHERE r.value < p.min_value OR r.value > p.max_value
                 OR (p.code = 'temperature' AND r.value > 18 AND c.is_sea))
              FROM {R} r JOIN environmental.environmental_parameter p ON p.id = r.parameter_id
              JOIN infrastructure.container c ON c.id = r.container_id WHERE r.year = %(year)s""",
          f"""SELECT r.reading_time, r.sensor_id, p.code, r.value FROM {R} r
              JOIN environmental.environmental_parameter p ON p.id = r.parameter_id
              JOIN infrastructure.container c ON c.id = r.container_id WHERE r.year = %(year)s
              AND (r.value < p.min_value OR r.value > p.max_value OR (p.code = 'temperature' AND r.value > 18 AND c.is_sea))
              LIMIT 5"""),
]
CROSS_YEAR = [orphans(R, "reading")]
