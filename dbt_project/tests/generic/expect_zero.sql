{#-
  Fails for every row where the column is not 0, NULL included: a count that was not computed is a
  failure (the built-in accepted_values with [0] would let NULL pass).
-#}
{% test expect_zero(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is distinct from 0
{% endtest %}
