-- What happened to each assignment within each year: its first and last stored day, feed, deaths,
-- dead biomass, population-days and degree-days. The building block of the cross-year FCR,
-- survival, lifecycle and TGC marts, so they never rescan the daily state.
--   first_* / last_*: state at the start of the first / last stored day of the year
--   degree_days_before_last: sum of temperature over the days before the last one, i.e. the
--     degree-days that took the fish from first_avg_weight_g to last_avg_weight_g (TGC)
{{ config(indexes=[{'columns': ['year']}, {'columns': ['assignment_id']}]) }}

with daily_state as (
    select
        *,
        row_number() over (partition by year, assignment_id order by state_date) as day_rank,
        row_number() over (partition by year, assignment_id order by state_date desc) as day_rank_desc
    from {{ ref('stg_assignment_daily_state') }}
    where {{ in_year_window('year') }}
)

select
    year,
    assignment_id,
    batch_id,
    container_id,
    lifecycle_stage_id,
    count(*) as state_days,
    count(distinct state_date) as distinct_state_days,
    min(state_date) as first_date,
    max(state_date) as last_date,
    max(population) filter (where day_rank = 1) as first_population,
    max(avg_weight_g) filter (where day_rank = 1) as first_avg_weight_g,
    max(biomass_kg) filter (where day_rank = 1) as first_biomass_kg,
    max(population) filter (where day_rank_desc = 1) as last_population,
    max(avg_weight_g) filter (where day_rank_desc = 1) as last_avg_weight_g,
    max(biomass_kg) filter (where day_rank_desc = 1) as last_biomass_kg,
    max(deaths) filter (where day_rank_desc = 1) as last_day_deaths,
    sum(feed_kg) as feed_kg,
    sum(deaths) as deaths,
    sum(deaths * avg_weight_g / 1000.0) as dead_biomass_kg,
    sum(population::double precision) as population_days,
    sum(temperature_c) as degree_days,
    coalesce(sum(temperature_c) filter (where day_rank_desc > 1), 0) as degree_days_before_last
from daily_state
group by year, assignment_id, batch_id, container_id, lifecycle_stage_id
