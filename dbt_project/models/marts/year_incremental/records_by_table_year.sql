-- How many rows does each yearly warehouse table hold for each owning year?
-- Tables not created yet are skipped at run time, so a partly built warehouse still counts.

{%- set yearly_tables = [
    ('batch', 'batch'), ('batch', 'batch_container_assignment'), ('batch', 'opening_state'),
    ('batch', 'batch_opening_totals'), ('batch', 'batch_transfer_workflow'), ('batch', 'transfer_action'),
    ('batch', 'assignment_daily_state'), ('batch', 'mortality_event'), ('batch', 'growth_sample'),
    ('harvest', 'harvest_event'), ('harvest', 'harvest_lot'),
    ('environmental', 'environmental_reading'), ('environmental', 'environmental_event'),
    ('inventory', 'feeding_event'), ('inventory', 'feed_purchase'), ('inventory', 'feed_stock'),
    ('inventory', 'feed_lot'),
    ('health', 'vaccination'), ('health', 'lice_count'), ('health', 'treatment'),
    ('health', 'disease_outbreak'), ('health', 'journal_entry'), ('health', 'health_sampling_event'),
    ('health', 'individual_fish_observation'), ('health', 'fish_parameter_score'),
    ('health', 'health_lab_sample'),
] %}

{%- set counts = [] %}
{%- for schema_name, table_name in yearly_tables %}
    {%- set relation = source(schema_name, table_name) %}
    {%- if not execute or adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none %}
        {%- do counts.append(
            "select year, '" ~ schema_name ~ "." ~ table_name ~ "'::text as table_name, count(*) as row_count"
            ~ " from " ~ relation
            ~ " where " ~ in_year_window('year')
            ~ " group by year"
        ) %}
    {%- endif %}
{%- endfor %}

{% if counts %}
{{ counts | join('\nunion all\n') }}
{% else %}
select null::smallint as year, null::text as table_name, null::bigint as row_count where false
{% endif %}
