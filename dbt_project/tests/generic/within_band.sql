{#-
  Fails for every row whose boolean band flag is false or NULL: a statistic that could not be
  compared with its band is a failure (the built-in accepted_values with [true] would let NULL pass).
-#}
{% test within_band(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is not true
{% endtest %}
