-- Harvest grades.
select
    id as product_grade_id,
    code as grade_code,
    name as grade_name
from {{ source('harvest', 'product_grade') }}
