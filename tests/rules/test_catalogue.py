"""The rule catalogue read as data: one name per rule, docs/rules.md current, and what each rule
without a frame form needs (the tables its SQL reads)."""
from __future__ import annotations

from pathlib import Path

from aquamind_assets.defs.loading import SPECS
from aquamind_assets.rules.catalogue import CATALOGUE, STATIC_ASSET, at_load, markdown

ROOT = Path(__file__).resolve().parents[2]


def test_each_rule_is_in_the_catalogue_once():
    names = [r.name for r in CATALOGUE]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_every_rule_belongs_to_an_asset_of_the_definitions():
    import aquamind_assets.definitions  # noqa: F401  (registers the yearly assets)

    assert {r.asset for r in CATALOGUE} == {*SPECS, STATIC_ASSET}


def test_docs_rules_md_is_the_catalogue():
    assert (ROOT / "docs" / "rules.md").read_text() == markdown(), \
        "regenerate: python -m aquamind_assets.rules.catalogue > docs/rules.md"


def test_rules_without_a_frame_form_and_the_tables_they_need():
    """Each load-time rule without a frame form, with the stored tables its SQL reads: what a frame
    form would have to read once per load. The readings, the largest table, are all frame-checked."""
    sql_only = {r.name: r.tables() for r in CATALOGUE if r.frame is None and r.scope != "all"}
    assert all(sql_only.values()), [n for n, t in sql_only.items() if not t]
    samples = {"environmental_reading_stored_sample", "environmental_reading_daily_stored_sample"}
    assert not any("environmental.environmental_reading" in t and n not in samples for n, t in sql_only.items())
    # the largest tables are read by SQL at load only by the readings' stored samples (a page sample;
    # three days through the BRIN of both the readings and their daily rollup)
    largest = {"batch.assignment_daily_state", "inventory.feeding_event", "health.fish_parameter_score",
               "environmental.environmental_reading", "environmental.environmental_reading_daily"}
    assert {n for n, t in sql_only.items() if largest & set(t)} == samples
    framed = [r for r in CATALOGUE if r.frame is not None]
    assert framed and all(at_load(r.asset).count(r.frame) == 1 for r in framed)
