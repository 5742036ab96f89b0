-- Diseases.
select
    id as disease_id,
    code as disease_code,
    name as disease_name
from {{ source('health', 'disease') }}
