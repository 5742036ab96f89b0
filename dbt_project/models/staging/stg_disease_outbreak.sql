-- Disease outbreaks.
select
    id as outbreak_id,
    year,
    batch_id,
    disease_id,
    area_id,
    start_date,
    end_date
from {{ source('health', 'disease_outbreak') }}
