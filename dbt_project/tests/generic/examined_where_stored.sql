{#-
  A rule that examined fewer rows than it needs (min_examined) where its asset stored rows cannot
  vouch for them: fails for those rows. NULL (not evaluated) is left to not_null.
-#}
{% test examined_where_stored(model, column_name) %}
select *
from {{ model }}
where stored_rows > 0 and {{ column_name }} < min_examined
{% endtest %}
