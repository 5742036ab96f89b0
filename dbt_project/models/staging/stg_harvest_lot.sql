-- Live and gutted weight per grade of a harvest event.
select
    id as harvest_lot_id,
    year,
    harvest_event_id,
    assignment_id,
    event_date,
    product_grade_id,
    unit_count,
    live_weight_kg::double precision as live_weight_kg,
    gutted_weight_kg::double precision as gutted_weight_kg
from {{ source('harvest', 'harvest_lot') }}
