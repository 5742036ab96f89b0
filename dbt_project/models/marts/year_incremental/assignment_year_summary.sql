-- What happened to each assignment within each year: its first and last stored day, feed, deaths,
-- dead biomass, population-days and degree-days. The building block of the cross-year FCR,
-- survival, lifecycle and TGC marts, so they never rescan the daily state.
--   first_* / last_*: state at the start of the first / last stored day of the year
--   degree_days_before_last: sum of temperature over the days before the last one, i.e. the
--     degree-days that took the fish from first_avg_weight_g to last_avg_weight_g (TGC)
--   The first and last day's state come from two hash joins on the per-assignment first and last
--   date, not from window functions: those sort the year's ~1 M daily rows twice. That a day is
--   stored once per assignment is a rule of the batches load (daily_state_covers_window).
{{ config(indexes=[{'columns': ['year']}, {'columns': ['assignment_id']}]) }}

with totals as (
    select
        year,
        assignment_id,
        batch_id,
        container_id,
        lifecycle_stage_id,
        count(*) as state_days,
        min(state_date) as first_date,
        max(state_date) as last_date,
        sum(feed_kg) as feed_kg,
        sum(deaths) as deaths,
        sum(deaths * avg_weight_g / 1000.0) as dead_biomass_kg,
        sum(population::double precision) as population_days,
        sum(temperature_c) as degree_days
    from {{ ref('stg_assignment_daily_state') }}
    where {{ in_year_window('year') }}
    group by year, assignment_id, batch_id, container_id, lifecycle_stage_id
)

select
    t.year,
    t.assignment_id,
    t.batch_id,
    t.container_id,
    t.lifecycle_stage_id,
    t.state_days,
    t.first_date,
    t.last_date,
    f.population as first_population,
    f.avg_weight_g as first_avg_weight_g,
    f.biomass_kg as first_biomass_kg,
    l.population as last_population,
    l.avg_weight_g as last_avg_weight_g,
    l.biomass_kg as last_biomass_kg,
    l.deaths as last_day_deaths,
    t.feed_kg,
    t.deaths,
    t.dead_biomass_kg,
    t.population_days,
    t.degree_days,
    t.degree_days - l.temperature_c as degree_days_before_last
from totals as t
inner join {{ ref('stg_assignment_daily_state') }} as f
    on f.year = t.year and f.assignment_id = t.assignment_id and f.state_date = t.first_date
inner join {{ ref('stg_assignment_daily_state') }} as l
    on l.year = t.year and l.assignment_id = t.assignment_id and l.state_date = t.last_date
where {{ in_year_window('f.year') }} and {{ in_year_window('l.year') }}
