-- Per assignment and year: the daily state's first and last stored day and its totals, as the
-- batches load summed them from the days it wrote (float4 state widened like stg_assignment_daily_state,
-- the day count a bigint like the count(*) it stands for).
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
    first_avg_weight_g::double precision as first_avg_weight_g,
    first_biomass_kg::double precision as first_biomass_kg,
    last_population,
    last_avg_weight_g::double precision as last_avg_weight_g,
    last_biomass_kg::double precision as last_biomass_kg,
    last_day_deaths,
    feed_kg,
    deaths,
    dead_biomass_kg,
    population_days,
    degree_days,
    degree_days_before_last
from {{ source('batch', 'assignment_year') }}
