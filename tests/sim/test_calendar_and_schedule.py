"""The day axis (owning year, epoch days, year bounds), the container book, the integer splits of
fish over units and across transfers, and the TGC growth / length arithmetic (REFERENCE 2-4)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from aquamind_assets.sim import biology as bio
from aquamind_assets.sim.calendar import (DATES, FIRST_STORED_DAY, N_DAYS, SIM_START, YEAR, day_of, epoch_days,
                                          owning_year, year_days)
from aquamind_assets.sim.schedule import ContainerBook, pair_transfers, split_even

EPOCH = dt.date(1970, 1, 1)


def _epoch(date: str) -> int:
    return (dt.date.fromisoformat(date) - EPOCH).days


# ------------------------------------------------------------------ calendar
@pytest.mark.parametrize("date,year", [
    ("2011-01-01", 2015), ("2012-06-30", 2015), ("2014-12-31", 2015), ("2015-01-01", 2015),
    ("2015-12-31", 2015), ("2016-01-01", 2016), ("2016-02-29", 2016), ("2020-07-15", 2020),
    ("2024-12-31", 2024)])
def test_owning_year_is_start_year_or_2015(date, year):
    assert int(owning_year(np.array([day_of(date)]))[0]) == year
    assert int(owning_year(day_of(date))) == year


def test_owning_year_over_the_whole_axis():
    days = np.arange(N_DAYS)
    own = owning_year(days)
    calendar_year = np.array([int(str(d)[:4]) for d in DATES])
    assert own.dtype == np.int16
    assert (own == np.maximum(calendar_year, 2015)).all()
    assert (own[:FIRST_STORED_DAY] == 2015).all() and FIRST_STORED_DAY > 0  # the warm-up years exist
    assert set(np.unique(own).tolist()) == set(range(2015, 2025))


@pytest.mark.parametrize("date", ["2011-01-01", "2014-12-31", "2015-01-01", "2016-02-29", "2024-12-31"])
def test_epoch_days_matches_python_dates(date):
    assert epoch_days(day_of(date)) == _epoch(date)
    arr = epoch_days(np.array([day_of(date), day_of(date) + 1]))
    assert arr.dtype == np.int32
    assert arr.tolist() == [_epoch(date), _epoch(date) + 1]


def test_axis_bounds():
    assert str(SIM_START) == "2011-01-01"
    assert day_of("2015-01-01") == FIRST_STORED_DAY
    assert N_DAYS == (dt.date(2025, 1, 1) - dt.date(2011, 1, 1)).days
    assert str(DATES[-1]) == "2024-12-31"
    assert YEAR[0] == 2011 and YEAR[-1] == 2024


def test_year_days_tile_the_stored_years():
    prev_stop = FIRST_STORED_DAY
    for y in range(2015, 2025):
        first, stop = year_days(y)
        assert first == prev_stop, f"{y} does not start where {y - 1} stopped"
        assert stop - first == (366 if y % 4 == 0 else 365)
        assert (YEAR[first:stop] == y).all()
        prev_stop = stop
    assert prev_stop == N_DAYS


# ------------------------------------------------------------------ integer splits
@given(total=st.integers(0, 10**9), n=st.integers(1, 500))
def test_split_even_sums_and_is_even(total, n):
    out = split_even(total, n)
    assert len(out) == n
    assert int(out.sum()) == total
    assert out.max() - out.min() <= 1
    assert (out >= 0).all()


@st.composite
def _source_dest(draw):
    source = np.array(draw(st.lists(st.integers(0, 100_000), min_size=1, max_size=30)), dtype=np.int64)
    total = int(source.sum())
    n_dest = draw(st.integers(1, 30))
    # random destination counts with the same total: cut points in [0, total]
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n_dest - 1, max_size=n_dest - 1)))
    dest = np.diff(np.array([0, *cuts, total], dtype=np.int64))
    return source, dest


@given(_source_dest())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_pair_transfers_conserves_every_source_and_destination(sd):
    source, dest = sd
    actions = pair_transfers(source, dest)
    out_of = np.zeros(len(source), np.int64)
    into = np.zeros(len(dest), np.int64)
    for s, d, n in actions:
        assert n > 0, "an action moves at least one fish"
        out_of[s] += n
        into[d] += n
    assert out_of.tolist() == source.tolist()
    assert into.tolist() == dest.tolist()


def test_pair_transfers_example_and_refusal():
    assert pair_transfers(np.array([5, 5]), np.array([3, 3, 4])) == [(0, 0, 3), (0, 1, 2), (1, 1, 1), (1, 2, 4)]
    with pytest.raises(AssertionError, match="conserved"):
        pair_transfers(np.array([5, 5]), np.array([3, 3]))


# ------------------------------------------------------------------ container book
def _book(n_units=12):
    stage = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1][:n_units])
    station = np.array([0, 0, 1, 0, 0, 1, 2, 2, 2, 2, 2, 2][:n_units])
    geo = np.array([0] * 6 + [1] * 6)[:n_units]
    area = np.full(n_units, -1)
    return ContainerBook(stage, station, geo, area)


def test_book_then_free_units_excludes_until_cleaned():
    book = _book()
    free = book.free_units(0, 0, 100)
    assert sorted(free.tolist()) == [0, 1, 2]
    # grouped by station, the biggest station first: station 0 holds two trays
    assert set(free[:2].tolist()) == {0, 1}
    book.book(free[:2], end_day=150, cleaning=7)
    for day in (100, 120, 150, 156):
        assert set(book.free_units(0, 0, day).tolist()) == {2}, day
    assert set(book.free_units(0, 0, 157).tolist()) == {0, 1, 2}
    # other stage and other geography are untouched
    assert set(book.free_units(0, 1, 120).tolist()) == {3, 4, 5}
    assert set(book.free_units(1, 0, 120).tolist()) == {6, 7, 8}
    assert book.first_day_with(0, 0, 3, 100) == 157
    assert book.first_day_with(0, 0, 1, 100) == 100
    assert book.first_day_with(0, 0, 4, 100) is None
    with pytest.raises(AssertionError, match="double booking"):
        book.book(np.array([0]), end_day=140, cleaning=7)  # would end inside its own booking


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 120), st.integers(1, 3), st.integers(0, 20)),
                min_size=1, max_size=60))
@settings(max_examples=150)
def test_container_book_never_double_books(requests):
    """Whatever order requests come in, units handed out by free_units never overlap a booking."""
    book = _book()
    intervals: dict[int, list[tuple[int, int]]] = {}
    booked_any = 0
    for day, length, n, cleaning in requests:
        free = book.free_units(0, 0, day)
        units = free[:n]
        if len(units) == 0:
            continue
        book.book(units, day + length, cleaning)
        booked_any += 1
        for u in units.tolist():
            for s, e in intervals.get(u, []):
                assert day + length + cleaning <= s or e <= day, f"unit {u} double booked"
            intervals.setdefault(u, []).append((day, day + length + cleaning))
    assert booked_any > 0


def test_free_site_prefers_the_soonest_free_site():
    book = _book()
    book.site_free = {1: 50, 2: 10, 3: 10}
    sites, cap = np.array([1, 2, 3]), np.array([1000, 100, 1000])
    assert book.free_site(0, sites, cap, 500, 0) == (3, 10)  # site 2 is too small
    assert book.free_site(0, sites, cap, 500, 60) == (1, 60)  # both free: the lower id
    assert book.free_site(0, sites, cap, 5000, 0) is None
    assert book.free_site(0, sites, cap, 500, 0, horizon=5) is None


# ------------------------------------------------------------------ growth and length
def test_temperature_response_shape():
    t = np.array([0.0, 2.0, 4.0, 6.0, 12.0, 15.0, 16.0, 19.0, 22.0, 30.0])
    r = bio.temperature_response(t)
    assert r[4] == 1.0 and r[5] == 1.0  # optimum
    assert r[0] == 0 and r[1] == 0 and r[2] == pytest.approx(0.5)
    assert r[7] == pytest.approx(0.5) and r[8] == 0 and r[9] == 0
    assert np.all(np.diff(r[:5]) >= 0) and np.all(np.diff(r[5:]) <= 0)


@pytest.mark.parametrize("w0,tgc,days", [(0.3, 1.3, 90), (45.0, 2.0, 60), (150.0, 3.0, 450), (800.0, 2.5, 200)])
def test_grow_reproduces_the_tgc_formula(w0, tgc, days):
    temp = np.full(days, 12.0)  # temperature_response(12) == 1
    w = bio.grow(np.array(w0), np.array(tgc), temp, np.ones(days))
    assert w.shape == (days,)
    assert w[0] == pytest.approx(w0)
    k = np.arange(days)
    expected = (w0 ** (1 / 3) + tgc / 1000 * 12.0 * k) ** 3  # sum(T) over the k days before day k
    np.testing.assert_allclose(w, expected, rtol=1e-9)
    # and the inverse: TGC recovered from first and last weight
    recovered = (np.cbrt(w[-1]) - np.cbrt(w[0])) / (12.0 * (days - 1)) * 1000
    assert recovered == pytest.approx(tgc, rel=1e-9)


def test_grow_is_vectorised_and_slower_in_cold_water():
    temps = np.stack([np.full(100, 12.0), np.full(100, 5.0), np.full(100, 1.0)])
    w = bio.grow(np.full(3, 100.0), np.full(3, 3.0), temps, np.ones((3, 100)))
    assert w.shape == (3, 100)
    assert w[0, -1] > w[1, -1] > w[2, -1] == pytest.approx(100.0)
    # 5 C: response 0.75 -> exactly 3/4 of the cube-root gain at 5 C
    gain5 = np.cbrt(w[1, -1]) - np.cbrt(100.0)
    assert gain5 == pytest.approx(3.0 / 1000 * 5.0 * 0.75 * 99)


def test_sea_cycle_reaches_harvest_weight_in_reference_time():
    """150 g smolt at sea TGC 3.0 over a Faroese-like 8-9 C year: harvest size in 14-20 months."""
    days = np.arange(720)
    temp = 8.2 + 2.2 * np.cos(2 * np.pi * (days - 120) / 365.25)
    w = bio.grow(np.array(150.0), np.array(3.0), temp, np.ones(720))
    reach = int(np.argmax(w >= 5000))
    assert w[-1] > 5000 and 14 * 30 <= reach <= 20 * 30


def test_length_from_weight_uses_a_plausible_condition_factor():
    w = np.array([500.0, 5000.0])
    L = bio.length_cm(w)
    k = 100 * w / L ** 3
    assert np.all((k >= 1.0) & (k <= 1.4))  # REFERENCE 4
    assert L[0] == pytest.approx(34.0, abs=1.5)  # "a 500 g fish is ~34 cm"
    assert np.all(np.diff(bio.length_cm(np.linspace(1, 7000, 50))) > 0)
    assert bio.length_cm(500.0) < 40  # the predecessor's 119 cm is far off


def test_length_of_a_5kg_fish_is_about_72cm():
    assert bio.length_cm(5000.0) == pytest.approx(72.0, abs=2.0)
