"""The Markdown report of ``framecast quake evaluate`` and ``framecast quake run``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from framecast.quake.catalog.events import days_to_timedelta, timedelta_to_days
from framecast.quake.frames import SeismicityFrames
from framecast.quake.rates import RateForecast
from framecast.quake.report_plots import (
    busiest_windows,
    plot_cumulative_gain,
    plot_forecast_maps,
    plot_molchan,
    plot_rate_series,
)


def _describe(forecasts: Mapping[str, RateForecast]) -> list[str]:
    lines = ["| forecast | how it was made |", "|---|---|"]
    for name, forecast in forecasts.items():
        details = " ".join(forecast.details.replace("\n", "; ").replace("|", "/").split()) or "-"
        lines.append(f"| {name} | {details} |")
    return lines


def _headline(table: object, names: Sequence[str], reference: str) -> list[str]:
    lines = []
    for name in names:
        if name == reference:
            continue
        test = table.comparison(name, reference)  # type: ignore[attr-defined]
        verdict = "above zero" if test.lower > 0 else "not above zero"
        lines.append(
            f"- **{name}** over {reference}: information gain {test.information_gain:+.3f} "
            f"nats per earthquake, 95% interval [{test.lower:+.3f}, {test.upper:+.3f}] "
            f"({verdict}; {test.n_events} events)."
        )
    return lines


def write_quake_report(
    forecasts: Mapping[str, RateForecast],
    frames: SeismicityFrames,
    out_dir: str | os.PathLike[str],
    *,
    reference: str,
    baselines: Sequence[str] = (),
    binary_magnitude: float | None = None,
    num_simulations: int = 1000,
    seed: int = 0,
    maps: int = 3,
) -> Path:
    """Score ``forecasts`` against the events of ``frames`` and write ``report.md``.

    Parameters
    ----------
    forecasts : mapping of str to RateForecast
        Keyed by a short name ("network", "reference", "etas"); the report
        shows each forecast's own ``name``.
    frames : SeismicityFrames
        The frames the forecasts were made on; their events are the truth.
    out_dir : path
        Receives report.md, scores.json and the figures.
    reference : str
        Key of the reference forecast (information gains are over it).
    baselines : sequence of str
        Keys of other forecasts every forecast is also compared with (ETAS).
    binary_magnitude : float, optional
        Magnitude of the "event in this cell and window" of ROC, PR and
        Molchan; default mc.
    num_simulations, seed : int
        Of the simulation-based CSEP tests.
    maps : int
        Windows shown as maps (the busiest ones).

    Raises
    ------
    KeyError
        ``reference`` or a baseline not among ``forecasts``.
    ValueError
        Forecasts on other grids or windows than each other.
    """
    from framecast.quake.scores.table import (
        cumulative_information_gain,
        observed_from_catalog,
        score_forecasts,
    )

    for key in (reference, *baselines):
        if key not in forecasts:
            raise KeyError(f"forecast {key!r} not given; have {list(forecasts)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    named = {forecast.name: forecast for forecast in forecasts.values()}
    ref_name = forecasts[reference].name
    base_names = [forecasts[k].name for k in baselines]
    first = forecasts[reference]
    observed = observed_from_catalog(frames.events, first)
    magnitude = first.mc if binary_magnitude is None else binary_magnitude
    table = score_forecasts(
        named,
        observed,
        reference=ref_name,
        baselines=base_names,
        binary_magnitude=magnitude,
        num_simulations=num_simulations,
        seed=seed,
    )
    (out / "scores.json").write_text(json.dumps(table.to_dict(), indent=2))

    counts = observed.counts((first.num_windows, *first.grid.shape))  # (W, H, X)
    windows = busiest_windows(counts, maps)
    lat, lon = frames.events.latitude, frames.events.longitude
    event_window = _event_windows(frames, first)
    figures = {
        "maps": plot_forecast_maps(
            named, (event_window, lat, lon), windows, out / "forecast_maps.png"
        ),
        "series": plot_rate_series(named, counts.sum(axis=(1, 2)), out / "rate_series.png"),
        "gain": plot_cumulative_gain(
            first.window_start,
            {
                name: cumulative_information_gain(f, first, observed)
                for name, f in named.items()
                if name != ref_name
            },
            out / "cumulative_gain.png",
            ref_name,
        ),
        "molchan": plot_molchan(
            {name: _molchan(table, name) for name in named}, out / "molchan.png", magnitude
        ),
    }
    end = first.window_start[-1] + days_to_timedelta(first.window_days)
    lines = [
        "# Earthquake forecast report",
        "",
        f"Test period {str(first.window_start[0])[:10]} to {str(end)[:10]}: "
        f"{first.num_windows} windows of {first.window_days:g} days, "
        f"{first.grid.shape[0]} x {first.grid.shape[1]} cells of {first.grid.cell:g} "
        f"{first.grid.unit} over lat {first.grid.lat_min:g}..{first.grid.lat_max:g}, "
        f"lon {first.grid.lon_min:g}..{first.grid.lon_max:g}; {len(observed)} target events "
        f"with M >= {first.mc:g}. Rates are expected numbers of events per cell and window; "
        "log-likelihoods and information gains are in nats.",
        "",
        *_headline(table, list(named), ref_name),
        "",
        "## Forecasts",
        "",
        *_describe(named),
        "",
        table.to_markdown(),
        "",
        "## Figures",
        "",
        f"![forecast maps]({figures['maps'].name})",
        "",
        f"![expected and observed events per window]({figures['series'].name})",
        "",
        f"![cumulative information gain]({figures['gain'].name})",
        "",
        f"![Molchan diagram]({figures['molchan'].name})",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _event_windows(frames: SeismicityFrames, forecast: RateForecast) -> np.ndarray:
    """int64 ``[N]``: the forecast window of each event of ``frames`` (-1 outside all)."""
    days = timedelta_to_days(frames.events.time - forecast.window_start[0])
    index = np.floor(days / forecast.window_days).astype(np.int64)
    return np.where((index >= 0) & (index < forecast.num_windows), index, -1)


def _molchan(table: object, name: str) -> tuple[np.ndarray, np.ndarray, float]:
    curve = table[name].binary.molchan  # type: ignore[index]
    return curve.tau, curve.nu, float(curve.area_skill_score)
