-- Environmental events per sea area.
select
    id as environmental_event_id,
    year,
    event_type,
    area_id,
    start_date,
    end_date,
    severity,
    magnitude
from {{ source('environmental', 'environmental_event') }}
