-- Measured environmental parameters.
select
    id as parameter_id,
    code as parameter_code,
    name as parameter_name,
    unit,
    min_value,
    max_value,
    optimal_min,
    optimal_max,
    sea_only,
    freshwater_only,
    readings_per_day
from {{ source('environmental', 'environmental_parameter') }}
