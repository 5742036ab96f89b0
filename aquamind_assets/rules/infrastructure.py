"""Rules for the static `infrastructure` asset."""
from __future__ import annotations

from ..config.years import LAST_DATE
from ..warehouse.checks import Check
from .common import LAST_DAY

SENSORS = "infrastructure.sensor s JOIN infrastructure.container c ON c.id = s.container_id"
SENSOR_IN_SERVICE = """s.installation_date >= c.commissioned_on
    AND s.installation_date < coalesce(c.decommissioned_on, 'infinity')
    AND coalesce(s.decommissioned_on, 'infinity') <= coalesce(c.decommissioned_on, 'infinity')
    AND coalesce(s.decommissioned_on, 'infinity') > s.installation_date"""

RULES = [
    Check("container_one_location", "a container sits in exactly one place: a hall or a sea area",
          "SELECT count(*), count(*) FILTER (WHERE (hall_id IS NULL) = (area_id IS NULL)) FROM infrastructure.container",
          "SELECT id, name, hall_id, area_id FROM infrastructure.container "
          "WHERE (hall_id IS NULL) = (area_id IS NULL) LIMIT 5"),
    Check("no_salinity_in_freshwater", "salinity sensors only in sea containers (docs/domain.md §10)",
          """SELECT count(*), count(*) FILTER (WHERE p.sea_only AND NOT c.is_sea OR p.freshwater_only AND c.is_sea)
             FROM infrastructure.sensor s JOIN infrastructure.container c ON c.id = s.container_id
             JOIN environmental.environmental_parameter p ON p.id = s.parameter_id""",
          """SELECT s.id, c.name, p.code FROM infrastructure.sensor s JOIN infrastructure.container c
             ON c.id = s.container_id JOIN environmental.environmental_parameter p ON p.id = s.parameter_id
             WHERE p.sea_only AND NOT c.is_sea OR p.freshwater_only AND c.is_sea LIMIT 5"""),
    Check("pen_fish_limit", "sea pens are stocked with at most 200,000 fish (docs/domain.md §10)",
          "SELECT count(*), count(*) FILTER (WHERE max_count > 200000) FROM infrastructure.container WHERE is_sea",
          "SELECT id, name, max_count FROM infrastructure.container WHERE is_sea AND max_count > 200000 LIMIT 5"),
    Check("unit_service_window_valid", "a container, site or sensor leaves service after it entered it and "
          f"never after {LAST_DATE}, and a sensor is installed only while its container is in service "
          "(docs/domain.md §1.12-§1.15)",
          f"""SELECT count(*), count(*) FILTER (WHERE NOT ok) FROM (
                 SELECT coalesce(decommissioned_on > commissioned_on AND decommissioned_on <= {LAST_DAY}, true) AS ok
                   FROM infrastructure.container
                 UNION ALL SELECT coalesce(decommissioned_on > commissioned_on AND decommissioned_on <= {LAST_DAY}, true)
                   FROM infrastructure.area
                 UNION ALL SELECT {SENSOR_IN_SERVICE} FROM {SENSORS}) w""",
          f"""SELECT s.id, s.installation_date, s.decommissioned_on, c.id AS container_id, c.commissioned_on,
                    c.decommissioned_on AS container_decommissioned_on FROM {SENSORS}
             WHERE NOT ({SENSOR_IN_SERVICE}) LIMIT 5"""),
]
