-- Per assignment and day: start-of-day population, weight, biomass; feed and deaths that day.
select
    year,
    assignment_id,
    batch_id,
    container_id,
    lifecycle_stage_id,
    state_date,
    population,
    avg_weight_g::double precision as avg_weight_g,
    biomass_kg::double precision as biomass_kg,
    temperature_c::double precision as temperature_c,
    feed_kg::double precision as feed_kg,
    deaths
from {{ source('batch', 'assignment_daily_state') }}
