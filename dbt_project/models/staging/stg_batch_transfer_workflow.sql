-- Stage transfers of a batch.
select
    id as workflow_id,
    year,
    batch_id,
    workflow_number,
    workflow_type,
    source_stage_id,
    dest_stage_id,
    transfer_date,
    source_count,
    transferred_count,
    mortality_count,
    transferred_biomass_kg::double precision as transferred_biomass_kg
from {{ source('batch', 'batch_transfer_workflow') }}
