-- Per day, geography and environment (sea or freshwater): fish at the start of the day and deaths that
-- day, as the batches load summed them from the days it wrote.
select
    year,
    state_date,
    geography_id,
    environment,
    population,
    deaths
from {{ source('batch', 'stock_day') }}
