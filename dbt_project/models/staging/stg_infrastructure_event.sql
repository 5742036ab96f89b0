-- What changed in the farm: units commissioned, retired, rebuilt; sensors replaced and recalibrated.
select
    id as infrastructure_event_id,
    year,
    unit_kind,
    unit_id,
    event_date,
    event_kind,
    replaces_id
from {{ source('infrastructure', 'infrastructure_event') }}
