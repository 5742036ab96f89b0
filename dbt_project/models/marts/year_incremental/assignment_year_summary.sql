-- What happened to each assignment within each year: its first and last stored day, feed, deaths,
-- dead biomass, population-days and degree-days. The building block of the cross-year FCR,
-- survival, lifecycle and TGC marts, so they never rescan the daily state.
--   first_* / last_*: state at the start of the first / last stored day of the year
--   degree_days_before_last: sum of temperature over the days before the last one, i.e. the
--     degree-days that took the fish from first_avg_weight_g to last_avg_weight_g (TGC)
--   The batches load sums these from the daily state as it writes it (batch.assignment_year), so
--   this reads one row per assignment-year (tests/defs/test_dbt.py holds them to the stored days).
{{ config(indexes=[{'columns': ['year']}, {'columns': ['assignment_id']}]) }}

select
    year,
    assignment_id,
    batch_id,
    container_id,
    lifecycle_stage_id,
    state_days::bigint as state_days,
    first_date,
    last_date,
    first_population,
    first_avg_weight_g,
    first_biomass_kg,
    last_population,
    last_avg_weight_g,
    last_biomass_kg,
    last_day_deaths,
    feed_kg,
    deaths,
    dead_biomass_kg,
    population_days,
    degree_days,
    degree_days_before_last
from {{ ref('stg_assignment_year') }}
where {{ in_year_window('year') }}
