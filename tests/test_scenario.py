"""The scenario file and the --years option: valid input loads, anything else is one ScenarioError
line naming the key; never another exception (hypothesis)."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from aquamind_assets.config.scenario import (DEFAULT_SCENARIO, FIRST_YEAR, LAST_YEAR, PRESETS, Scale, Scenario,
                                      ScenarioError, load_scenario, parse_years)


def _write(tmp_path, data) -> str:
    p = tmp_path / "scenario.json"
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def _error(fn, *args, **kw) -> str:
    with pytest.raises(ScenarioError) as exc:
        fn(*args, **kw)
    msg = str(exc.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    e = exc.value
    assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__), "no chained traceback"
    return msg


# ------------------------------------------------------------------ valid scenarios
def test_default_scenario():
    s = load_scenario()
    data = json.loads(DEFAULT_SCENARIO.read_text())
    assert (s.seed, s.scale, s.start_year, s.end_year) == (data["seed"], data["scale"], data["start_year"],
                                                           data["end_year"])
    assert s.years == list(range(2015, 2025))
    assert s.scale_spec == Scale(**PRESETS[s.scale])


def test_overrides_apply_and_none_is_ignored():
    s = load_scenario(scale="tiny", seed=7, start_year=None)
    assert (s.scale, s.seed, s.start_year) == ("tiny", 7, 2015)
    assert s.scale_spec.fish_scale == PRESETS["tiny"]["fish_scale"]


def test_data_hash_tracks_data_not_the_year_window(tmp_path):
    base = load_scenario(scale="tiny")
    assert base.data_hash() == load_scenario(scale="tiny", start_year=2016, end_year=2017, name="x").data_hash()
    assert base.data_hash() != load_scenario(scale="tiny", seed=base.seed + 1).data_hash()
    assert base.data_hash() != load_scenario(scale="small").data_hash()
    path = _write(tmp_path, {"scale": "tiny", "biology": {"pen_max_fish": 150000}})
    assert load_scenario(path).data_hash() != base.data_hash()
    assert load_scenario(path).biology.pen_max_fish == 150000


def test_scale_overrides_change_the_preset(tmp_path):
    s = load_scenario(_write(tmp_path, {"scale": "tiny", "scale_overrides": {"cadence_multiplier": 2}}))
    assert s.scale_spec.cadence_multiplier == 2
    assert s.scale_spec.sea_sites == PRESETS["tiny"]["sea_sites"]


# ------------------------------------------------------------------ refused scenarios
def test_unknown_top_level_key(tmp_path):
    msg = _error(load_scenario, _write(tmp_path, {"seed": 1, "sede": 2}))
    assert "'sede'" in msg and "unknown" in msg
    msg = _error(load_scenario, bogus=1)
    assert "'bogus'" in msg


def test_unknown_nested_key(tmp_path):
    msg = _error(load_scenario, _write(tmp_path, {"biology": {"tgc_seaa": [3.0, 0.1]}}))
    assert "'biology.tgc_seaa'" in msg


def test_unknown_scale_override_key(tmp_path):
    msg = _error(load_scenario, _write(tmp_path, {"scale_overrides": {"fishscale": 0.5}}))
    assert "fishscale" in msg


@pytest.mark.parametrize("key,value", [("seed", "abc"), ("seed", 1.5), ("start_year", "twenty"),
                                       ("name", 3), ("scale_overrides", [1]), ("end_year", [2016])])
def test_wrong_types(key, value):
    msg = _error(load_scenario, **{key: value})
    assert f"'{key}'" in msg and "invalid" in msg


def test_wrong_nested_type(tmp_path):
    msg = _error(load_scenario, _write(tmp_path, {"biology": {"pen_max_fish": "lots"}}))
    assert "'biology.pen_max_fish'" in msg


@pytest.mark.parametrize("seed", [-1, -5, 2**63])
def test_seed_out_of_range(seed):
    msg = _error(load_scenario, seed=seed)
    assert "'seed'" in msg


def test_unknown_scale():
    msg = _error(load_scenario, scale="huge")
    assert "'scale'" in msg and "tiny" in msg


@pytest.mark.parametrize("start,end", [(2020, 2016), (2014, 2016), (2016, 2025), (2030, 2031), (2024, 2015)])
def test_impossible_years(start, end):
    msg = _error(load_scenario, start_year=start, end_year=end)
    assert f"{start}-{end}" in msg and f"{FIRST_YEAR}-{LAST_YEAR}" in msg


def test_missing_file_bad_json_and_not_an_object(tmp_path):
    msg = _error(load_scenario, tmp_path / "nope.json")
    assert "nope.json" in msg and "not found" in msg
    msg = _error(load_scenario, _write(tmp_path, '{"seed": 1,,}'))
    assert "not valid JSON" in msg and "line 1" in msg
    msg = _error(load_scenario, _write(tmp_path, "[1, 2]"))
    assert "JSON object" in msg


def test_bad_scale_override_value_is_refused_at_load(tmp_path):
    path = _write(tmp_path, {"scale": "tiny", "scale_overrides": {"fish_scale": 5}})
    with pytest.raises(ScenarioError, match="fish_scale"):
        s = load_scenario(path)
        s.scale_spec  # noqa: B018 - what build_plan does first


# ------------------------------------------------------------------ --years
@pytest.mark.parametrize("text,expected", [("2015-2024", (2015, 2024)), ("2017", (2017, 2017)),
                                           ("2016-2016", (2016, 2016)), ("2024", (2024, 2024))])
def test_parse_years_valid(text, expected):
    assert parse_years(text) == expected


@pytest.mark.parametrize("text,fragment", [
    ("2025", "outside"), ("2014-2016", "outside"), ("2020-2016", "reversed: write 2016-2020"),
    ("abc", "not a year"), ("", "not a year"), ("2015-2016-2017", "not a year"), ("2016-", "not a year"),
    ("-2016", "not a year"), ("2016..2018", "not a year")])
def test_parse_years_refused(text, fragment):
    msg = _error(parse_years, text)
    assert fragment in msg and repr(text) in msg


@given(st.integers(0, 10**5), st.integers(0, 10**5), st.booleans())
def test_parse_years_ranges_property(a, b, single):
    text, lo, hi = (str(a), a, a) if single else (f"{a}-{b}", a, b)
    valid = FIRST_YEAR <= lo <= hi <= LAST_YEAR
    try:
        got = parse_years(text)
    except ScenarioError as e:
        assert "\n" not in str(e) and repr(text) in str(e)
        assert not valid
    else:
        assert valid and got == (lo, hi)


@given(st.text(max_size=20))
@settings(max_examples=300)
def test_parse_years_never_raises_anything_else(text):
    try:
        start, end = parse_years(text)
    except ScenarioError as e:
        assert "\n" not in str(e) and str(e)
    else:
        assert FIRST_YEAR <= start <= end <= LAST_YEAR


def _any():
    return st.one_of(st.none(), st.integers(-2**64, 2**64), st.integers(2000, 2040), st.text(max_size=8),
                     st.floats(allow_nan=True), st.booleans(), st.sampled_from(list(PRESETS) + ["huge", ""]),
                     st.lists(st.integers(), max_size=2))


@given(seed=_any(), scale=_any(), start_year=_any(), end_year=_any(), name=_any())
@settings(max_examples=300, deadline=None)
def test_load_scenario_overrides_property(seed, scale, start_year, end_year, name):
    try:
        s = load_scenario(seed=seed, scale=scale, start_year=start_year, end_year=end_year, name=name)
    except ScenarioError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith(("invalid scenario value for '", "unknown scenario key '", "invalid scenario: "))
    else:
        assert isinstance(s, Scenario)
        assert 0 <= s.seed < 2**63 and s.scale in PRESETS
        assert FIRST_YEAR <= s.start_year <= s.end_year <= LAST_YEAR
        assert s.scale_spec.fish_scale > 0
        assert len(s.data_hash()) == 16


@given(key=st.text(min_size=1, max_size=10), value=_any())
@settings(max_examples=200, deadline=None)
def test_unknown_override_keys_property(key, value):
    if key in Scenario.model_fields or key == "path":
        return
    try:
        s = load_scenario(**{key: value})
    except ScenarioError as e:
        assert "\n" not in str(e) and f"unknown scenario key {key!r}" in str(e)
        assert value is not None
    else:
        assert value is None and isinstance(s, Scenario)  # None overrides are ignored


@pytest.mark.parametrize("key", ["gutted_ratio", "transfer_loss", "eggs_per_batch"])
def test_a_reversed_biology_range_is_refused_in_one_line(key):
    low, high = {"gutted_ratio": (0.85, 0.83), "transfer_loss": (0.02, 0.01), "eggs_per_batch": (3.5e6, 3.0e6)}[key]
    with pytest.raises(ScenarioError) as e:
        load_scenario(biology={key: [low, high]})
    assert "\n" not in str(e.value) and f"{key} is reversed" in str(e.value), str(e.value)
