"""Small synthetic catalogs shared by the quake tests."""

from __future__ import annotations

import numpy as np

from framecast.quake import Catalog

REGION = "33,34,-117,-116"


def random_catalog(
    n: int = 400,
    *,
    seed: int = 0,
    start: str = "2010-01-01",
    days: float = 3 * 365,
    region: tuple[float, float, float, float] = (33.0, 34.0, -117.0, -116.0),
    mc: float = 2.0,
) -> Catalog:
    """``n`` events uniform in time and space, Gutenberg-Richter magnitudes (b = 1) above mc."""
    rng = np.random.default_rng(seed)
    lat_min, lat_max, lon_min, lon_max = region
    offsets = (np.sort(rng.uniform(0, days, n)) * 86_400e6).astype("timedelta64[us]")
    return Catalog.from_columns(
        time=np.datetime64(start, "us") + offsets,
        latitude=rng.uniform(lat_min, lat_max, n),
        longitude=rng.uniform(lon_min, lon_max, n),
        magnitude=mc + rng.exponential(1 / np.log(10), n),
        depth=rng.uniform(0, 15, n),
    )
