-- Treatment types.
select
    id as treatment_type_id,
    code as treatment_code,
    name as treatment_name,
    category as treatment_category,
    duration_days,
    withholding_days,
    allowed_in_faroes
from {{ source('health', 'treatment_type') }}
