-- Pre-2015 totals per batch alive on 2015-01-01.
select
    year,
    batch_id,
    stocked_count,
    feed_kg_before::double precision as feed_kg_before,
    deaths_before,
    population_on_2015_01_01
from {{ source('batch', 'batch_opening_totals') }}
