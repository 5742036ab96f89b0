{#-
  Local stand-in for dbt_utils.accepted_range (same name, arguments and result): fails for every
  value below min_value or above max_value (bounds included unless inclusive=false); NULL passes,
  as there. dbt hub packages cannot be installed where this project is built; with dbt_utils in
  packages.yml, delete this file and prefix the tests with `dbt_utils.`.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select *
from {{ model }}
where false
    {%- if min_value is not none %}
    or not {{ column_name }} >{{ "=" if inclusive }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    or not {{ column_name }} <{{ "=" if inclusive }} {{ max_value }}
    {%- endif %}
{% endtest %}
