-- Holding units with their limits and their time in service (decommissioned_on exclusive, NULL = in service).
select
    id as container_id,
    container_type_id,
    hall_id,
    area_id,
    name as container_name,
    volume_m3,
    max_biomass_kg,
    max_count,
    is_sea,
    commissioned_on,
    decommissioned_on
from {{ source('infrastructure', 'container') }}
