{#- Fails for every row whose boolean band flag is false or NULL. -#}
{% test within_band(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is not true
{% endtest %}
