-- Feed purchases.
select
    id as feed_purchase_id,
    year,
    feed_id,
    supplier_id,
    feed_container_id,
    order_date,
    delivery_date,
    quantity_kg::double precision as quantity_kg,
    cost_per_kg::double precision as cost_per_kg,
    lot_number
from {{ source('inventory', 'feed_purchase') }}
