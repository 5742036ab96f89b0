-- Silos and barges.
select
    id as feed_container_id,
    hall_id,
    area_id,
    name as feed_container_name,
    container_type as storage_type,
    capacity_kg
from {{ source('infrastructure', 'feed_container') }}
