-- Lice counts per assignment, date and lice type.
select
    id as lice_count_id,
    year,
    batch_id,
    assignment_id,
    count_date,
    lice_type_id,
    fish_sampled,
    count_value
from {{ source('health', 'lice_count') }}
