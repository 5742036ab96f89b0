-- Harvest of one pen on one day.
select
    id as harvest_event_id,
    year,
    batch_id,
    assignment_id,
    event_date,
    geography_id,
    document_ref,
    is_early
from {{ source('harvest', 'harvest_event') }}
