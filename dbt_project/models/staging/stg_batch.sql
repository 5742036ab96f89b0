-- Batches (egg intakes).
select
    id as batch_id,
    year,
    batch_number,
    species_id,
    geography_id,
    freshwater_station_id,
    egg_supplier_id,
    strain,
    egg_count,
    start_date,
    actual_end_date,
    status
from {{ source('batch', 'batch') }}
