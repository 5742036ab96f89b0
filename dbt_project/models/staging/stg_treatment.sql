-- Treatments with withholding periods and outcome.
select
    id as treatment_id,
    year,
    batch_id,
    assignment_id,
    treatment_date,
    treatment_type_id,
    dosage,
    duration_days,
    withholding_days,
    withholding_end_date,
    outcome,
    lice_before::double precision as lice_before
from {{ source('health', 'treatment') }}
