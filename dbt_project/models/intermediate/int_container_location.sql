-- Where each container is and what it may hold: hall -> freshwater station -> geography for tanks
-- and trays, sea area -> geography for pens.
with containers as (
    select * from {{ ref('stg_container') }}
),

halls as (
    select * from {{ ref('stg_hall') }}
),

stations as (
    select * from {{ ref('stg_freshwater_station') }}
),

areas as (
    select * from {{ ref('stg_area') }}
),

geographies as (
    select * from {{ ref('stg_geography') }}
)

select
    c.container_id,
    c.container_name,
    c.container_type_id,
    c.is_sea,
    case when c.is_sea then 'sea' else 'freshwater' end as environment,
    c.volume_m3,
    c.max_count,
    c.max_biomass_kg,
    c.max_biomass_kg / nullif(c.volume_m3, 0) as density_limit_kg_m3,
    c.commissioned_on,
    c.decommissioned_on,
    c.hall_id,
    h.hall_name,
    h.freshwater_station_id,
    s.station_name,
    c.area_id,
    a.area_name,
    g.geography_id,
    g.geography_code,
    g.geography_name
from containers as c
left join halls as h on h.hall_id = c.hall_id
left join stations as s on s.freshwater_station_id = h.freshwater_station_id
left join areas as a on a.area_id = c.area_id
left join geographies as g on g.geography_id = coalesce(s.geography_id, a.geography_id)
