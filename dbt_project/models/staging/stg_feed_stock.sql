-- Feed stock per feed container, feed and day.
select
    year,
    stock_date,
    feed_container_id,
    feed_id,
    opening_kg::double precision as opening_kg,
    purchased_kg::double precision as purchased_kg,
    consumed_kg::double precision as consumed_kg,
    closing_kg::double precision as closing_kg,
    consumed_cost::double precision as consumed_cost
from {{ source('inventory', 'feed_stock') }}
