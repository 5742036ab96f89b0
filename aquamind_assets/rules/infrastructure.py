"""Rules for the static `infrastructure` asset."""
from __future__ import annotations

from ..warehouse.checks import Check

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
]
