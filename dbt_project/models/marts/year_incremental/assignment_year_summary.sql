-- What happened to each assignment within each year: its first and last stored day, feed, deaths,
-- dead biomass, population-days and degree-days. The building block of the cross-year FCR,
-- survival, lifecycle and TGC marts, so they never rescan the daily state.
--   first_* / last_*: state at the start of the first / last stored day of the year
--   degree_days_before_last: sum of temperature over the days before the last one, i.e. the
--     degree-days that took the fish from first_avg_weight_g to last_avg_weight_g (TGC)
--   The batches load sums these from the daily state as it writes it (batch.assignment_year), so
--   this reads one row per assignment-year (tests/defs/test_dbt.py holds them to the stored days).
{{ config(indexes=[{'columns': ['year']}, {'columns': ['assignment_id']}]) }}

select *
from {{ ref('stg_assignment_year') }}
where {{ in_year_window('year') }}
