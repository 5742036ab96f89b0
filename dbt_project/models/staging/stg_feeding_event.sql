-- Meals; feeding_date is the UTC calendar day.
select
    id as feeding_event_id,
    year,
    assignment_id,
    batch_id,
    container_id,
    feed_id,
    feed_container_id,
    feeding_time,
    (feeding_time at time zone 'UTC')::date as feeding_date,
    amount_kg::double precision as amount_kg,
    batch_biomass_kg::double precision as batch_biomass_kg,
    feeding_percentage::double precision as feeding_percentage,
    feed_cost::double precision as feed_cost,
    method as feeding_method
from {{ source('inventory', 'feeding_event') }}
