-- Vaccinations.
select
    id as vaccination_id,
    year,
    batch_id,
    assignment_id,
    vaccination_date,
    vaccination_type_id,
    avg_weight_g::double precision as avg_weight_g,
    fish_count
from {{ source('health', 'vaccination') }}
