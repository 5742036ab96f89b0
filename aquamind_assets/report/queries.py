"""What each chart and table of the report shows: one query over a dbt mart each, nothing computed here,
so the numbers in the report are the marts' numbers (a test compares them)."""
from __future__ import annotations

from psycopg.rows import dict_row

# name -> (title, kind, x, y, series, SQL)
CHARTS = {
    "sea_temperature": ("Sea temperature, annual mean by geography (C)", "line", "year", "value", "geography",
                        """SELECT year, geography, round(value::numeric, 3)::float AS value FROM analytics.stat_validation
                           WHERE metric = 'sea_temperature_annual_mean_c' ORDER BY geography, year"""),
    "growth": ("Growth curves: mean weight (g, log scale) by days since egg intake, first completed batches", "line-log", "day",
               "weight_g", "batch", """SELECT b.batch_number AS batch, p.day, round(p.w::numeric, 2)::float AS weight_g
                       FROM analytics.batch_lifecycle l JOIN (SELECT batch_id, batch_number, start_date
                             FROM analytics.fcr_by_batch WHERE is_completed ORDER BY batch_id LIMIT 12) b
                         ON b.batch_id = l.batch_id,
                       LATERAL (VALUES (l.entry_date - b.start_date, l.entry_weight_g),
                                       (l.exit_date - b.start_date, l.exit_weight_g)) p(day, w)
                       WHERE p.day IS NOT NULL AND p.w > 0 ORDER BY batch, day"""),
    "mortality": ("Monthly mortality at sea by geography (%)", "line", "month", "mortality_pct", "geography",
                  """SELECT to_char(month_start, 'YYYY-MM') AS month, geography_code AS geography,
                            round(mortality_pct::numeric, 4)::float AS mortality_pct
                     FROM analytics.mortality_monthly_by_geography WHERE environment = 'sea' ORDER BY 2, 1"""),
    "fcr": ("Biological and economic FCR of completed batches, by harvest year", "bar", "year", "fcr", "kind",
            """SELECT extract(year FROM last_harvest_date)::int AS year, kind, round(avg(v)::numeric, 3)::float AS fcr
               FROM analytics.fcr_by_batch, LATERAL (VALUES ('biological', biological_fcr), ('economic', economic_fcr)) x(kind, v)
               WHERE is_completed AND v IS NOT NULL GROUP BY 1, 2 ORDER BY 2, 1"""),
    "harvest": ("Harvest per year by geography (gutted tonnes)", "bar", "year", "gutted_tonnes", "geography",
                """SELECT year::int AS year, geography_code AS geography, round(sum(gutted_tonnes)::numeric, 1)::float AS gutted_tonnes
                   FROM analytics.harvest_yearly_by_geography GROUP BY 1, 2 ORDER BY 2, 1"""),
    "utilization": ("Facility utilization by geography (% of container-days occupied)", "line", "month",
                    "utilization_pct", "geography",
                    """SELECT to_char(month_start, 'YYYY-MM') AS month, geography_code AS geography,
                              round((100.0 * sum(occupied_container_days) / sum(available_container_days))::numeric, 2)::float
                              AS utilization_pct
                       FROM analytics.utilization_monthly WHERE level = 'geography' GROUP BY 1, 2 ORDER BY 2, 1"""),
}
TABLES = {
    "summary": ("Summary per year", """SELECT year, active_batches_at_year_end, fish_harvested,
                   round(harvest_gutted_tonnes::numeric, 1) AS gutted_tonnes, round(mortality_pct::numeric, 2) AS mortality_pct,
                   round(avg_biological_fcr::numeric, 3) AS biological_fcr, outbreaks_started,
                   round(treatment_success_pct::numeric, 1) AS treatment_success_pct,
                   round(utilization_pct::numeric, 1) AS utilization_pct, total_records
                   FROM analytics.summary_by_year ORDER BY year"""),
    "data_quality": ("Data quality: each rule's results as stored by the loads (and the latest audit); "
                     "violations also count stored years without a result",
                     """SELECT rule, description, coalesce(load_examined, audit_examined) AS examined,
                            coalesce(load_violations, 0) + coalesce(audit_violations, 0) + years_missing AS violations
                        FROM analytics.data_quality ORDER BY violations DESC, rule"""),
    "validation": ("Statistical validation against the reference bands",
                   """SELECT metric, geography, year, round(value::numeric, 3) AS value, lower, upper, within_band,
                      reference_section FROM analytics.stat_validation ORDER BY within_band, metric, geography, year"""),
}


def fetch(conn) -> dict:
    """Every chart's and table's rows, as lists of dicts (JSON-ready)."""
    out = {"charts": {}, "tables": {}}
    with conn.cursor(row_factory=dict_row) as cur:
        for name, (*_, q) in CHARTS.items():
            out["charts"][name] = [dict(r) for r in cur.execute(q).fetchall()]
        for name, (_, q) in TABLES.items():
            out["tables"][name] = [{k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
                                    for k, v in r.items()} for r in cur.execute(q).fetchall()]
    return out
