{#- Fails for every row where the column is not 0 (NULL counts as a failure too). -#}
{% test expect_zero(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is distinct from 0
{% endtest %}
