"""Every warehouse table, one PostgreSQL schema per domain, names after the predecessor's data model.

Static tables (infrastructure, reference data) carry primary, foreign and unique keys. Yearly
tables carry `year` (the owning year, see README) and no keys during a load: their integrity is
enforced by the SQL checks in `checks.py`, run inside each year's write transaction.
"""
from __future__ import annotations

from ..config.years import FIRST_DATE, FIRST_YEAR, LAST_DATE
from .schema import C, Table, yearly

# ---------------------------------------------------------------- infrastructure (static)
GEOGRAPHY = Table("infrastructure", "geography", (
    C("id", "int4"), C("name", "text"), C("code", "text")), primary_key=("id",), unique=(("name",),))
AREA_GROUP = Table("infrastructure", "area_group", (
    C("id", "int4"), C("geography_id", "int4"), C("name", "text"), C("code", "text")),
    primary_key=("id",), foreign_keys=(("geography_id", "infrastructure.geography(id)"),),
    unique=(("geography_id", "name"),))
AREA = Table("infrastructure", "area", (
    C("id", "int4"), C("geography_id", "int4"), C("area_group_id", "int4"), C("name", "text"),
    C("latitude", "float8"), C("longitude", "float8"), C("max_biomass_kg", "float8"),
    C("pen_count", "int4"), C("commissioned_on", "date"), C("decommissioned_on", "date", True)),
    primary_key=("id",), unique=(("name",),),
    foreign_keys=(("geography_id", "infrastructure.geography(id)"),
                  ("area_group_id", "infrastructure.area_group(id)")),
    description="A sea site; holds one generation at a time (all in, all out).")
FRESHWATER_STATION = Table("infrastructure", "freshwater_station", (
    C("id", "int4"), C("geography_id", "int4"), C("name", "text"), C("station_type", "text"),
    C("latitude", "float8"), C("longitude", "float8"), C("is_ras", "bool"), C("commissioned_on", "date")),
    primary_key=("id",), unique=(("name",),),
    foreign_keys=(("geography_id", "infrastructure.geography(id)"),))
HALL = Table("infrastructure", "hall", (
    C("id", "int4"), C("freshwater_station_id", "int4"), C("name", "text"),
    C("lifecycle_stage_id", "int4"), C("area_sqm", "float8"), C("is_ras", "bool"), C("commissioned_on", "date")),
    primary_key=("id",), unique=(("freshwater_station_id", "name"),),
    foreign_keys=(("freshwater_station_id", "infrastructure.freshwater_station(id)"),
                  ("lifecycle_stage_id", "batch.lifecycle_stage(id)")))
CONTAINER_TYPE = Table("infrastructure", "container_type", (
    C("id", "int4"), C("name", "text"), C("category", "text"), C("max_volume_m3", "float8")),
    primary_key=("id",), unique=(("name",),))
CONTAINER = Table("infrastructure", "container", (
    C("id", "int4"), C("container_type_id", "int4"), C("hall_id", "int4", True),
    C("area_id", "int4", True), C("name", "text"), C("volume_m3", "float8"),
    C("max_biomass_kg", "float8"), C("max_count", "int4"), C("is_sea", "bool"),
    C("commissioned_on", "date"), C("decommissioned_on", "date", True)),
    primary_key=("id",), unique=(("name",),),
    foreign_keys=(("container_type_id", "infrastructure.container_type(id)"),
                  ("hall_id", "infrastructure.hall(id)"), ("area_id", "infrastructure.area(id)")),
    description="A holding unit: tray, tank or sea pen; exactly one of hall_id / area_id is set. In service "
                "from commissioned_on until decommissioned_on (exclusive; NULL = still in service).")
SENSOR = Table("infrastructure", "sensor", (
    C("id", "int4"), C("container_id", "int4"), C("parameter_id", "int4"), C("name", "text"),
    C("serial_number", "text"), C("installation_date", "date"), C("decommissioned_on", "date", True)),
    primary_key=("id",), unique=(("container_id", "parameter_id", "installation_date"),),
    foreign_keys=(("container_id", "infrastructure.container(id)"),
                  ("parameter_id", "environmental.environmental_parameter(id)")),
    description="A probe on a container, installed on installation_date (with its container, or replacing "
                "the one before it) and in service until decommissioned_on (exclusive; NULL = in service).")
FEED_CONTAINER = Table("infrastructure", "feed_container", (
    C("id", "int4"), C("hall_id", "int4", True), C("area_id", "int4", True), C("name", "text"),
    C("container_type", "text"), C("capacity_kg", "float8")),
    primary_key=("id",), unique=(("name",),),
    foreign_keys=(("hall_id", "infrastructure.hall(id)"), ("area_id", "infrastructure.area(id)")))

# ---------------------------------------------------------------- reference data (static)
SPECIES = Table("batch", "species", (
    C("id", "int4"), C("name", "text"), C("scientific_name", "text")), primary_key=("id",))
LIFECYCLE_STAGE = Table("batch", "lifecycle_stage", (
    C("id", "int4"), C("species_id", "int4"), C("name", "text"), C("stage_order", "int4"),
    C("expected_weight_min_g", "float8"), C("expected_weight_max_g", "float8"),
    C("typical_duration_days", "int4")),
    primary_key=("id",), unique=(("name",),), foreign_keys=(("species_id", "batch.species(id)"),))
EGG_SUPPLIER = Table("batch", "egg_supplier", (
    C("id", "int4"), C("name", "text"), C("is_internal", "bool")), primary_key=("id",))
ENV_PARAMETER = Table("environmental", "environmental_parameter", (
    C("id", "int4"), C("name", "text"), C("code", "text"), C("unit", "text"),
    C("min_value", "float8"), C("max_value", "float8"), C("optimal_min", "float8"),
    C("optimal_max", "float8"), C("sea_only", "bool"), C("freshwater_only", "bool"),
    C("readings_per_day", "int4")), primary_key=("id",), unique=(("code",),))
FEED = Table("inventory", "feed", (
    C("id", "int4"), C("name", "text"), C("brand", "text"), C("pellet_size_mm", "float8"),
    C("min_fish_weight_g", "float8"), C("max_fish_weight_g", "float8"),
    C("protein_percentage", "float8"), C("fat_percentage", "float8"),
    C("carbohydrate_percentage", "float8")), primary_key=("id",), unique=(("name",),))
FEED_SUPPLIER = Table("inventory", "feed_supplier", (
    C("id", "int4"), C("name", "text"), C("lead_time_days", "int4"),
    C("price_multiplier", "float8")), primary_key=("id",), unique=(("name",),))
LICE_TYPE = Table("health", "lice_type", (
    C("id", "int4"), C("species", "text"), C("gender", "text"), C("development_stage", "text")),
    primary_key=("id",), unique=(("species", "gender", "development_stage"),))
VACCINATION_TYPE = Table("health", "vaccination_type", (
    C("id", "int4"), C("name", "text"), C("manufacturer", "text"), C("dosage", "text")),
    primary_key=("id",))
SAMPLE_TYPE = Table("health", "sample_type", (C("id", "int4"), C("name", "text")),
                    primary_key=("id",), unique=(("name",),))
MORTALITY_REASON = Table("health", "mortality_reason", (
    C("id", "int4"), C("code", "text"), C("name", "text")), primary_key=("id",), unique=(("code",),))
TREATMENT_TYPE = Table("health", "treatment_type", (
    C("id", "int4"), C("code", "text"), C("name", "text"), C("category", "text"),
    C("duration_days", "int4"), C("withholding_days", "int4"), C("allowed_in_faroes", "bool")),
    primary_key=("id",), unique=(("code",),))
DISEASE = Table("health", "disease", (
    C("id", "int4"), C("code", "text"), C("name", "text")), primary_key=("id",), unique=(("code",),))
HEALTH_PARAMETER = Table("health", "health_parameter", (
    C("id", "int4"), C("name", "text"), C("min_score", "int2"), C("max_score", "int2")),
    primary_key=("id",))
PRODUCT_GRADE = Table("harvest", "product_grade", (
    C("id", "int4"), C("code", "text"), C("name", "text")), primary_key=("id",), unique=(("code",),))

# ---------------------------------------------------------------- batches (yearly)
BATCH = yearly("batch", "batch",
    C("id", "int4"), C("batch_number", "text"), C("species_id", "int4"), C("geography_id", "int4"),
    C("freshwater_station_id", "int4"), C("egg_supplier_id", "int4"), C("strain", "text"),
    C("egg_count", "int4"), C("start_date", "date"), C("actual_end_date", "date", True),
    C("status", "text"), indexes=(("id",),),
    description=f"One egg intake; owned by the year of its start date ({FIRST_YEAR} if earlier).")
ASSIGNMENT = yearly("batch", "batch_container_assignment",
    C("id", "int4"), C("batch_id", "int4"), C("container_id", "int4"),
    C("lifecycle_stage_id", "int4"), C("population_count", "int4"), C("avg_weight_g", "float4"),
    C("biomass_kg", "float4"), C("assignment_date", "date"), C("departure_date", "date", True),
    C("is_active", "bool"), indexes=(("id",), ("container_id",)),
    description="The spine: this batch, at this stage, in this container, from assignment_date "
                f"to departure_date (exclusive; NULL = still open on {LAST_DATE}).")
OPENING_STATE = yearly("batch", "opening_state",
    C("assignment_id", "int4"), C("batch_id", "int4"), C("state_date", "date"),
    C("population", "int4"), C("avg_weight_g", "float4"), C("biomass_kg", "float4"),
    description=f"State of every assignment open on {FIRST_DATE} (warm start).")
BATCH_OPENING_TOTALS = yearly("batch", "batch_opening_totals",
    C("batch_id", "int4"), C("stocked_count", "int4"), C("feed_kg_before", "float8"),
    C("deaths_before", "int4"), C("population_on_2015_01_01", "int4"),
    description=f"Per batch alive on {FIRST_DATE}: what happened before {FIRST_YEAR}, so survival and FCR stay right.")
TRANSFER_WORKFLOW = yearly("batch", "batch_transfer_workflow",
    C("id", "int4"), C("batch_id", "int4"), C("workflow_number", "text"),
    C("workflow_type", "text"), C("source_stage_id", "int4"), C("dest_stage_id", "int4"),
    C("transfer_date", "date"), C("source_count", "int4"), C("transferred_count", "int4"),
    C("mortality_count", "int4"), C("transferred_biomass_kg", "float4"))
TRANSFER_ACTION = yearly("batch", "transfer_action",
    C("id", "int4"), C("workflow_id", "int4"), C("action_number", "int4"),
    C("source_assignment_id", "int4"), C("dest_assignment_id", "int4"),
    C("transfer_date", "date"), C("transferred_count", "int4"),
    C("transferred_biomass_kg", "float4"), C("transfer_method", "text"))
DAILY_STATE = yearly("batch", "assignment_daily_state",
    C("assignment_id", "int4"), C("batch_id", "int4"), C("container_id", "int4"),
    C("lifecycle_stage_id", "int4"), C("state_date", "date"), C("population", "int4"),
    C("avg_weight_g", "float4"), C("biomass_kg", "float4"), C("temperature_c", "float4"),
    C("feed_kg", "float4"), C("deaths", "int4"), time_column="state_date",
    description="Per assignment and day: population at the start of the day, mean weight, "
                "biomass, temperature that drove growth, feed given and deaths that day.")
ASSIGNMENT_YEAR = yearly("batch", "assignment_year",
    C("assignment_id", "int4"), C("batch_id", "int4"), C("container_id", "int4"),
    C("lifecycle_stage_id", "int4"), C("state_days", "int4"), C("first_date", "date"), C("last_date", "date"),
    C("first_population", "int4"), C("first_avg_weight_g", "float4"), C("first_biomass_kg", "float4"),
    C("last_population", "int4"), C("last_avg_weight_g", "float4"), C("last_biomass_kg", "float4"),
    C("last_day_deaths", "int4"), C("feed_kg", "float8"), C("deaths", "int8"), C("dead_biomass_kg", "float8"),
    C("population_days", "float8"), C("degree_days", "float8"), C("degree_days_before_last", "float8"),
    time_column="first_date",
    description="Per assignment and year: the daily state's first and last stored day of the year and its "
                "totals (feed, deaths, dead biomass, population-days, degree-days, and the degree-days "
                "before the last day), summed by the batches load from the days it writes.")
CONTAINER_MONTH = yearly("batch", "container_month",
    C("container_id", "int4"), C("month_start", "date"), C("occupied_days", "int4"), C("max_biomass_kg", "float4"),
    time_column="month_start",
    description="Per container and month: days occupied and the highest biomass of any of those days, summed "
                "by the batches load from the daily state it writes.")
STOCK_DAY = yearly("batch", "stock_day",
    C("state_date", "date"), C("geography_id", "int4"), C("environment", "text"), C("population", "int8"),
    C("deaths", "int8"), time_column="state_date",
    description="Per day, geography and environment (sea or freshwater): fish at the start of the day and "
                "deaths that day, summed by the batches load from the daily state it writes.")
MORTALITY_EVENT = yearly("batch", "mortality_event",
    C("id", "int8"), C("batch_id", "int4"), C("assignment_id", "int4"), C("event_date", "date"),
    C("count", "int4"), C("biomass_kg", "float4"), C("cause", "text"),
    C("mortality_reason_id", "int4"), time_column="event_date")
HARVEST_EVENT = yearly("harvest", "harvest_event",
    C("id", "int4"), C("batch_id", "int4"), C("assignment_id", "int4"), C("event_date", "date"),
    C("geography_id", "int4"), C("document_ref", "text"), C("is_early", "bool"))
HARVEST_LOT = yearly("harvest", "harvest_lot",
    C("id", "int4"), C("harvest_event_id", "int4"), C("assignment_id", "int4"),
    C("event_date", "date"), C("product_grade_id", "int4"), C("unit_count", "int4"),
    C("live_weight_kg", "float8"), C("gutted_weight_kg", "float8"))

BATCH_TABLES = (BATCH, ASSIGNMENT, OPENING_STATE, BATCH_OPENING_TOTALS, TRANSFER_WORKFLOW,
                TRANSFER_ACTION, DAILY_STATE, ASSIGNMENT_YEAR, CONTAINER_MONTH, STOCK_DAY)
INFRASTRUCTURE_TABLES = (GEOGRAPHY, AREA_GROUP, AREA, FRESHWATER_STATION, HALL, CONTAINER_TYPE,
                         CONTAINER, SENSOR, FEED_CONTAINER)
REFERENCE_TABLES = (SPECIES, LIFECYCLE_STAGE, EGG_SUPPLIER, ENV_PARAMETER, FEED, FEED_SUPPLIER,
                    LICE_TYPE, VACCINATION_TYPE, SAMPLE_TYPE, MORTALITY_REASON, TREATMENT_TYPE,
                    DISEASE, HEALTH_PARAMETER, PRODUCT_GRADE)
HARVEST_TABLES = (HARVEST_EVENT, HARVEST_LOT)
INFRASTRUCTURE_EVENT = yearly("infrastructure", "infrastructure_event",
    C("id", "int4"), C("unit_kind", "text"), C("unit_id", "int4"), C("event_date", "date"),
    C("event_kind", "text"), C("replaces_id", "int4", True), time_column="event_date",
    description="What changed in the farm on a day: a unit (freshwater_station, hall, area, container, sensor) "
                "commissioned, retired or rebuilt (replaces_id: the unit it replaces), a sensor replaced or "
                "recalibrated.")
INFRASTRUCTURE_CHANGE_TABLES = (INFRASTRUCTURE_EVENT,)
MORTALITY_TABLES = (MORTALITY_EVENT,)

# ---------------------------------------------------------------- environment (yearly)
ENV_READING = yearly("environmental", "environmental_reading",
    C("reading_time", "timestamptz"), C("sensor_id", "int4"), C("container_id", "int4"),
    C("assignment_id", "int4"), C("parameter_id", "int4"), C("value", "float4"),
    time_column="reading_time", hypertable=True,
    description="Sensor readings of occupied containers; every row carries its assignment.")
ENV_EVENT = yearly("environmental", "environmental_event",
    C("id", "int4"), C("event_type", "text"), C("area_id", "int4"), C("start_date", "date"),
    C("end_date", "date", True), C("severity", "text"), C("magnitude", "float4"),
    description="Storms, algae blooms, temperature anomalies and oxygen depletion per sea site.")
ENV_READING_DAILY = yearly("environmental", "environmental_reading_daily",
    C("reading_date", "date"), C("sensor_id", "int4"), C("container_id", "int4"), C("parameter_id", "int4"),
    C("reading_count", "int2"), C("mean_value", "float4"), C("min_value", "float4"), C("max_value", "float4"),
    time_column="reading_date",
    description="Per sensor and day: the count, mean, minimum and maximum of its readings, computed as the "
                "readings are rendered and written in the same transaction (so it is replaced with its year); "
                "what the marts and the report read instead of rescanning the readings.")
from .tables_faults import SENSOR_FAULT, SENSOR_FAULT_FLAG  # noqa: E402
ENVIRONMENT_TABLES = (ENV_READING, ENV_READING_DAILY, ENV_EVENT, SENSOR_FAULT, SENSOR_FAULT_FLAG)  # the first is the asset's main table

# ---------------------------------------------------------------- operations (yearly), one module each
from .tables_feeding import *  # noqa: E402,F401,F403
from .tables_health import *  # noqa: E402,F401,F403
