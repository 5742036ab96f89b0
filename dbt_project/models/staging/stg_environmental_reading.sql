-- Sensor readings; reading_date is the UTC calendar day.
select
    year,
    reading_time,
    (reading_time at time zone 'UTC')::date as reading_date,
    sensor_id,
    container_id,
    assignment_id,
    parameter_id,
    value::double precision as value
from {{ source('environmental', 'environmental_reading') }}
