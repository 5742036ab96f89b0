-- Deaths per assignment, day and cause.
select
    id as mortality_event_id,
    year,
    batch_id,
    assignment_id,
    event_date,
    "count" as death_count,
    biomass_kg::double precision as biomass_kg,
    cause,
    mortality_reason_id
from {{ source('batch', 'mortality_event') }}
