"""Rules for the yearly `infrastructure_changes` asset: each event is dated where its unit says."""
from __future__ import annotations

from ..warehouse.checks import Check
from .common import owning_year

E = "infrastructure.infrastructure_event"
# every unit an event can name, with the days it came into and went out of service
UNITS = """(SELECT 'container' AS kind, id, commissioned_on AS since, decommissioned_on AS until
              FROM infrastructure.container
            UNION ALL SELECT 'sensor', id, installation_date, decommissioned_on FROM infrastructure.sensor
            UNION ALL SELECT 'area', id, commissioned_on, decommissioned_on FROM infrastructure.area
            UNION ALL SELECT 'hall', id, commissioned_on, NULL FROM infrastructure.hall
            UNION ALL SELECT 'freshwater_station', id, commissioned_on, NULL FROM infrastructure.freshwater_station) u"""
WRONG = """u.id IS NULL
    OR e.event_kind IN ('commissioned', 'rebuilt', 'sensor_replaced') AND e.event_date <> u.since
    OR e.event_kind = 'retired' AND e.event_date IS DISTINCT FROM u.until
    OR e.event_kind = 'sensor_calibrated' AND (e.event_date < u.since OR e.event_date >= coalesce(u.until, 'infinity'))
    OR e.event_kind NOT IN ('commissioned', 'rebuilt', 'retired', 'sensor_replaced', 'sensor_calibrated')"""

RULES = [
    owning_year(E, "event_date"),
    Check("infrastructure_event_matches_unit", "every change names a stored unit and is dated on its commissioning "
          "(or rebuild, or replacement), on its retirement, or, for a recalibration, while the sensor is installed "
          "(docs/domain.md §1.12-§1.15)",
          f"SELECT count(*), count(*) FILTER (WHERE {WRONG}) FROM {E} e "
          f"LEFT JOIN {UNITS} ON u.kind = e.unit_kind AND u.id = e.unit_id WHERE e.year = %(year)s",
          f"SELECT e.id, e.unit_kind, e.unit_id, e.event_kind, e.event_date, u.since, u.until FROM {E} e "
          f"LEFT JOIN {UNITS} ON u.kind = e.unit_kind AND u.id = e.unit_id WHERE e.year = %(year)s AND ({WRONG}) LIMIT 5"),
]
