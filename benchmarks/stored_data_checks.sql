-- The "Done when" figures of issues 3 and 4, computed over a generated warehouse (dbt marts built):
--   psql "$AQUAMIND_DATABASE_URL" -f benchmarks/stored_data_checks.sql   (the benchmark's: aquamind_bench_full)
\echo == issue 3: active batches per day (min, max, days, days in 40-50)
with d as (select state_date, count(distinct batch_id) n from batch.assignment_daily_state where population > 0 group by 1)
select min(n), max(n), count(*), count(*) filter (where n between 40 and 50) from d;
\echo == issue 3: completed sea cycles (pen assignments started and ended inside 2015-2024): TGC from stored daily temperatures, harvest live weight
with sea as (
  select a.id, l.geography_code geo from batch.batch_container_assignment a
  join analytics.int_container_location l on l.container_id = a.container_id
  where l.is_sea and a.assignment_date >= date '2015-01-01' and a.departure_date is not null),
cyc as (
  select s.id, s.geo,
    (array_agg(d.avg_weight_g order by d.state_date))[1] w0,
    (array_agg(d.avg_weight_g order by d.state_date desc))[1] w1,
    sum(d.temperature_c) - (array_agg(d.temperature_c order by d.state_date desc))[1] dd
  from sea s join batch.assignment_daily_state d on d.assignment_id = s.id group by 1, 2),
hv as (select assignment_id, sum(live_weight_kg) / nullif(sum(unit_count), 0) kg from harvest.harvest_lot group by 1),
j as (select c.*, 1000 * (cbrt(w1) - cbrt(w0)) / nullif(dd, 0) tgc, hv.kg from cyc c join hv on hv.assignment_id = c.id)
select geo, count(*) cycles,
  round(avg((tgc between 2.5 and 3.5)::int)::numeric, 3) share_tgc_in_band,
  round(avg((kg between 4.5 and 6.5)::int)::numeric, 3) share_weight_in_band,
  round(percentile_cont(0.5) within group (order by kg)::numeric, 2) median_kg,
  round(percentile_cont(0.5) within group (order by tgc)::numeric, 2) median_tgc
from j group by rollup(geo);
\echo == stat_validation (band misses)
select metric, geography, count(*) n, count(*) filter (where not within_band) misses from analytics.stat_validation group by 1, 2 order by 1, 2;
\echo == data_quality: the catalogue's results as the loads (and the last validate) stored them
select count(*) rules, sum(years_missing) years_missing, sum(load_violations) load_violations,
       sum(audit_violations) audit_violations, sum(load_examined) examined from analytics.data_quality;
select rule, load_examined, load_violations, audit_violations, years_missing from analytics.data_quality order by rule;
\echo == issue 4: daily mean of temperature readings per container vs the plan temperature (share within 0.3 C)
select count(*) container_days, round(avg((abs(e.mean_value - d.temperature_c) <= 0.3)::int)::numeric, 4) share_within_03
from analytics.env_daily_by_container_parameter e
join batch.assignment_daily_state d on d.container_id = e.container_id and d.state_date = e.reading_date
where e.parameter_code = 'temperature';
\echo == issue 4: lice per fish by month (adult female + all), sea
select extract(month from count_date)::int m, round(sum(count_value)::numeric / nullif(sum(fish_sampled), 0), 3) lice_per_fish
from health.lice_count group by 1 order by 1;
\echo == issue 4: antibiotic treatments in the Faroes
select count(*) from health.treatment t join health.treatment_type tt on tt.id = t.treatment_type_id
join batch.batch_container_assignment a on a.id = t.assignment_id join analytics.int_container_location l on l.container_id = a.container_id
where l.geography_code = 'FO' and tt.code = 'ANTIBIOTIC';
\echo == SC lice treatments: the previous day's adult-female count of the pen above the code-of-practice threshold (0.5 Feb-June, 1.0 July-Jan) and equal to lice_before
with t as (select t.id, t.assignment_id, t.treatment_date, t.lice_before from health.treatment t
  join batch.batch_container_assignment a on a.id = t.assignment_id join analytics.int_container_location l on l.container_id = a.container_id
  where l.geography_code = 'SC' and t.lice_before is not null)
select count(*) treatments,
       count(*) filter (where c.count_value::float8 / c.fish_sampled > case when extract(month from c.count_date) between 2 and 6 then 0.5 else 1.0 end
                          and abs(c.count_value::float8 / c.fish_sampled - t.lice_before) <= 0.001) after_count_above_threshold
from t left join health.lice_count c on c.assignment_id = t.assignment_id and c.count_date = t.treatment_date - 1 and c.lice_type_id = 4;
\echo == SC lice treatments: next adult-female count of the pen lower than lice_before
with t as (select t.id, t.assignment_id, t.treatment_date, t.lice_before from health.treatment t
  join batch.batch_container_assignment a on a.id = t.assignment_id join analytics.int_container_location l on l.container_id = a.container_id
  where l.geography_code = 'SC' and t.lice_before is not null),
n as (select t.id, t.lice_before, (select c.count_value::float8 / c.fish_sampled from health.lice_count c
   where c.assignment_id = t.assignment_id and c.count_date > t.treatment_date and c.lice_type_id = 4
   order by c.count_date limit 1) nxt from t)
select count(*) treatments, count(nxt) with_next, round(avg((nxt < lice_before)::int)::numeric, 3) share_next_lower from n;
\echo == sea: correlation of daily mean temperature and dissolved oxygen per pen-day; DO on algae-bloom days vs other days
with d as (select e.container_id, e.reading_date, max(e.mean_value) filter (where e.parameter_code = 'temperature') t,
                  max(e.mean_value) filter (where e.parameter_code = 'dissolved_oxygen') o, l.area_id
           from analytics.env_daily_by_container_parameter e join analytics.int_container_location l on l.container_id = e.container_id
           where l.is_sea group by 1, 2, 5)
select round(corr(t, o)::numeric, 3) corr_temp_do,
  round(avg(o) filter (where exists (select 1 from environmental.environmental_event ev where ev.event_type = 'algae_bloom' and ev.area_id = d.area_id and d.reading_date between ev.start_date and coalesce(ev.end_date, date '2024-12-31')))::numeric, 2) do_bloom_days,
  round(avg(o)::numeric, 2) do_all_days from d;
\echo == issue 3: sea mortality per geography-month against the docs/domain.md §5 bands (seeds/validation_bands.csv)
select m.geography_code, count(*) months, count(*) filter (where m.mortality_pct between b.lower and b.upper) in_band,
  count(*) filter (where m.mortality_pct < b.lower) below, count(*) filter (where m.mortality_pct > b.upper) above
from analytics.mortality_monthly_by_geography m
join analytics.validation_bands b on b.metric = 'sea_monthly_mortality_pct' and b.geography = m.geography_code
where m.environment = 'sea' group by 1 order by 1;
\echo == issue 3: sea mortality % by month of the year (median over the ten years): docs/domain.md §5 wants the low in May-June, the high in August-October
select m.geography_code, extract(month from m.month_start)::int as month,
  round(percentile_cont(0.5) within group (order by m.mortality_pct)::numeric, 2) median_pct,
  round(max(m.mortality_pct)::numeric, 2) max_pct
from analytics.mortality_monthly_by_geography m where m.environment = 'sea' group by 1, 2 order by 1, 2;
\echo == issue 4: salinity readings per geography and container kind, share inside docs/domain.md §7 (FO 33-35, SC 25-34)
with b(geography_code, lo, hi) as (values ('FO', 33, 35), ('SC', 25, 34))
select l.geography_code, l.is_sea, count(*) readings, round(min(value)::numeric, 2) min, round(max(value)::numeric, 2) max,
  round(avg((value between b.lo and b.hi)::int)::numeric, 5) share_in_range,
  count(*) filter (where not value between b.lo and b.hi) outside
from environmental.environmental_reading r join analytics.int_container_location l on l.container_id = r.container_id
join b on b.geography_code = l.geography_code
where r.parameter_id = (select id from environmental.environmental_parameter where code = 'salinity') group by 1, 2;
\echo == issue 3: smolts put to sea (millions) and harvest (kt gutted) per year and geography vs docs/domain.md §1 (FO 12-19 M smolts, 50-85 kt; SC 6-7 M, 20-35 kt)
with smolts as (
  select t.year, l.geography_code, sum(t.transferred_count) / 1e6 as smolts_m
  from batch.transfer_action t
  join batch.batch_container_assignment d on d.id = t.dest_assignment_id
  join batch.batch_container_assignment s on s.id = t.source_assignment_id
  join analytics.int_container_location l on l.container_id = d.container_id
  join analytics.int_container_location ls on ls.container_id = s.container_id
  where l.is_sea and not ls.is_sea group by 1, 2),
harvest as (
  select year, geography_code, sum(gutted_tonnes) / 1e3 as gutted_kt
  from analytics.harvest_yearly_by_geography group by 1, 2)
select coalesce(s.year, h.year) as year, coalesce(s.geography_code, h.geography_code) as geo,
  round(s.smolts_m::numeric, 1) as smolts_m, round(h.gutted_kt::numeric, 1) as gutted_kt
from smolts s full join harvest h on h.year = s.year and h.geography_code = s.geography_code
order by 2, 1;
