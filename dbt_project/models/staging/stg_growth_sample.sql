-- Growth samples.
select
    id as growth_sample_id,
    year,
    assignment_id,
    sample_date,
    sample_size,
    avg_weight_g::double precision as avg_weight_g,
    std_weight_g::double precision as std_weight_g,
    avg_length_cm::double precision as avg_length_cm,
    std_length_cm::double precision as std_length_cm,
    condition_factor::double precision as condition_factor
from {{ source('batch', 'growth_sample') }}
