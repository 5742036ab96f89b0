-- Mortality causes.
select
    id as mortality_reason_id,
    code as reason_code,
    name as reason_name
from {{ source('health', 'mortality_reason') }}
