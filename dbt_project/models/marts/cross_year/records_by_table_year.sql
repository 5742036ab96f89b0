-- How many rows does each yearly warehouse table hold for each owning year? Read from the load
-- records (meta.partition_load.rows), which every year's load writes in its own transaction from the
-- server's count of the rows its COPY stored: counting the tables again would rescan ~200 M rows.

select
    load.year::smallint as year,
    tables.key as table_name,
    tables.value::bigint as row_count,
    load.asset
from {{ source('meta', 'partition_load') }} as load
cross join lateral jsonb_each_text(load.rows) as tables
where load.year > 0
