-- Sea areas (sites).
select
    id as area_id,
    geography_id,
    area_group_id,
    name as area_name,
    latitude,
    longitude,
    max_biomass_kg,
    pen_count
from {{ source('infrastructure', 'area') }}
