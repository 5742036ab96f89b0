-- Lifecycle stages.
select
    id as lifecycle_stage_id,
    species_id,
    name as stage_name,
    stage_order,
    expected_weight_min_g,
    expected_weight_max_g,
    typical_duration_days
from {{ source('batch', 'lifecycle_stage') }}
