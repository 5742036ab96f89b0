-- Daily rollup of the readings, per sensor and UTC day, written with the readings by their load.
select
    year,
    reading_date,
    sensor_id,
    container_id,
    parameter_id,
    reading_count,
    mean_value,
    min_value::double precision as min_value,
    max_value::double precision as max_value
from {{ source('environmental', 'environmental_reading_daily') }}
