-- Totals from before the history per batch alive on its first stored day (warm start); the
-- warehouse names the population column after that day.
select
    year,
    batch_id,
    stocked_count,
    feed_kg_before::double precision as feed_kg_before,
    deaths_before,
    population_on_2015_01_01
from {{ source('batch', 'batch_opening_totals') }}
