from __future__ import annotations

import numpy as np
import pytest
from quake_testing import random_catalog

from framecast.quake import Catalog


def test_columns_checked():
    with pytest.raises(ValueError, match="latitude"):
        Catalog.from_columns(time=["2020-01-01"], latitude=[95.0], longitude=[0.0], magnitude=[2])
    with pytest.raises(ValueError, match="differ in length"):
        Catalog.from_columns(
            time=["2020-01-01"], latitude=[1.0, 2.0], longitude=[0.0], magnitude=[2]
        )


def test_filter_by_time_magnitude_region_and_type():
    cat = Catalog.from_columns(
        time=["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"],
        latitude=[33.5, 33.5, 35.0, 33.5],
        longitude=[-116.5] * 4,
        magnitude=[2.5, 1.5, 3.0, np.nan],
        event_type=["earthquake", "earthquake", "earthquake", "quarry blast"],
    )
    assert len(cat.filter(start="2020-01-02", end="2020-01-03")) == 1
    assert cat.filter(min_magnitude=2.0).event_id.tolist() == ["0", "2"]
    assert cat.filter(region=(33, 34, -117, -116)).event_id.tolist() == ["0", "1"]
    assert "3" not in cat.filter().event_id
    assert "3" in cat.filter(event_types=None).event_id


def test_dedup_keeps_last_and_hash_ignores_order():
    cat = random_catalog(20)
    doubled = Catalog.concat([cat, cat.select(np.arange(5))])
    assert len(doubled.deduplicated()) == 20
    shuffled = cat.select(np.random.default_rng(1).permutation(20))
    assert shuffled.content_hash() == cat.content_hash()
    changed = Catalog.concat([cat.select(np.arange(19)), cat.select([19])])
    assert changed.content_hash() == cat.content_hash()
    assert cat.select(np.arange(19)).content_hash() != cat.content_hash()


def test_days_since():
    cat = Catalog.from_columns(
        time=["2020-01-01T12:00:00"], latitude=[0.0], longitude=[0.0], magnitude=[2]
    )
    assert cat.days_since("2020-01-01")[0] == pytest.approx(0.5)
