-- Fish moved between two assignments.
select
    id as transfer_action_id,
    year,
    workflow_id,
    action_number,
    source_assignment_id,
    dest_assignment_id,
    transfer_date,
    transferred_count,
    transferred_biomass_kg::double precision as transferred_biomass_kg,
    transfer_method
from {{ source('batch', 'transfer_action') }}
