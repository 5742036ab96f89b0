-- Sensors: one per container and parameter.
select
    id as sensor_id,
    container_id,
    parameter_id,
    name as sensor_name,
    serial_number,
    installation_date
from {{ source('infrastructure', 'sensor') }}
