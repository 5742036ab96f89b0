-- Geographies.
select
    id as geography_id,
    code as geography_code,
    name as geography_name
from {{ source('infrastructure', 'geography') }}
