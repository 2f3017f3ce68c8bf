"""A latitude/longitude box, as the FDSN event services and ``--region`` options take it."""

from __future__ import annotations


def parse_region(text: str | tuple[float, ...] | list[float]) -> tuple[float, float, float, float]:
    """Parse ``"lat_min,lat_max,lon_min,lon_max"`` (the order of the FDSN fetch option).

    Raises
    ------
    ValueError
        Not four numbers, or minima not below maxima, or out of range.
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        values = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise ValueError(
            f"region must be four numbers lat_min,lat_max,lon_min,lon_max; got {text!r}"
        ) from None
    if len(values) != 4:
        raise ValueError(
            f"region must be four numbers lat_min,lat_max,lon_min,lon_max; got {text!r}"
        )
    lat_min, lat_max, lon_min, lon_max = values
    if not (-90 <= lat_min < lat_max <= 90):
        raise ValueError(f"region latitudes must satisfy -90 <= min < max <= 90; got {text!r}")
    if not (-180 <= lon_min < lon_max <= 180):
        raise ValueError(f"region longitudes must satisfy -180 <= min < max <= 180; got {text!r}")
    return values  # type: ignore[return-value]
