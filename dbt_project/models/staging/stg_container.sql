-- Holding units with their limits.
select
    id as container_id,
    container_type_id,
    hall_id,
    area_id,
    name as container_name,
    volume_m3,
    max_biomass_kg,
    max_count,
    is_sea
from {{ source('infrastructure', 'container') }}
