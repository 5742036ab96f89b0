-- Freshwater stations.
select
    id as freshwater_station_id,
    geography_id,
    name as station_name,
    station_type,
    latitude,
    longitude,
    is_ras
from {{ source('infrastructure', 'freshwater_station') }}
