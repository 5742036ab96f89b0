-- Halls of freshwater stations.
select
    id as hall_id,
    freshwater_station_id,
    name as hall_name,
    lifecycle_stage_id,
    area_sqm,
    is_ras
from {{ source('infrastructure', 'hall') }}
