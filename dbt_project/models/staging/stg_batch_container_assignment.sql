-- The spine, with the exclusive end of each window.
select
    id as assignment_id,
    year,
    batch_id,
    container_id,
    lifecycle_stage_id,
    population_count,
    avg_weight_g::double precision as avg_weight_g,
    biomass_kg::double precision as biomass_kg,
    assignment_date,
    departure_date,
    -- the window is [assignment_date, window_end_exclusive); open windows run to the end of the history
    {{ window_end('departure_date') }} as window_end_exclusive,
    is_active
from {{ source('batch', 'batch_container_assignment') }}
