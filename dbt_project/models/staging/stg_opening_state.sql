-- Assignment state on the first stored day (warm start).
select
    year,
    assignment_id,
    batch_id,
    state_date,
    population,
    avg_weight_g::double precision as avg_weight_g,
    biomass_kg::double precision as biomass_kg
from {{ source('batch', 'opening_state') }}
