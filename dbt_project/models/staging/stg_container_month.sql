-- Per container and month: days occupied and the highest biomass of those days, as the batches load
-- summed them from the days it wrote.
select
    year,
    container_id,
    month_start,
    occupied_days,
    max_biomass_kg::double precision as max_biomass_kg
from {{ source('batch', 'container_month') }}
