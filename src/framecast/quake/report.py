"""The Markdown report of ``framecast quake evaluate`` and ``framecast quake run``.

Two steps: :func:`score_report` computes every number (the score table, the
observed counts, the cumulative gains, the catalog-based tests of
simulation forecasts) and :func:`render_report` turns them into
``report.md``, ``scores.json`` and the figures. :func:`write_quake_report`
runs both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framecast.files import atomic_write
from framecast.quake.catalog.events import days_to_timedelta, timedelta_to_days
from framecast.quake.catalog_forecast import CatalogForecast
from framecast.quake.defaults import REPORT_MAPS
from framecast.quake.frames import SeismicityFrames
from framecast.quake.rates import RateForecast
from framecast.quake.report_plots import (
    busiest_windows,
    plot_cumulative_gain,
    plot_forecast_maps,
    plot_molchan,
    plot_rate_series,
)
from framecast.quake.scores import ObservedEvents, ScoreSettings, ScoreTable


@dataclass(frozen=True)
class ReportScores:
    """Everything :func:`render_report` draws and writes, computed by :func:`score_report`.

    Attributes
    ----------
    forecasts : dict of str to RateForecast
        Keyed by each forecast's display name.
    reference : str
        Display name of the reference forecast.
    table : ScoreTable
    observed : ObservedEvents
        The target events on the forecasts' bins.
    counts : numpy.ndarray
        int64 ``[W, H, X]`` observed events per window and cell.
    cumulative_gain : dict of str to numpy.ndarray
        float64 ``[W]`` information gain over the reference up to each window.
    catalog_tests : dict of str to object
        Catalog-based CSEP tests of each simulation forecast, by display name.
    sections : list of str
        Markdown blocks placed before the score table (the ETAS fit, the
        magnitude of completeness, ...).
    """

    forecasts: dict[str, RateForecast]
    reference: str
    table: ScoreTable
    observed: ObservedEvents
    counts: np.ndarray
    cumulative_gain: dict[str, np.ndarray]
    catalog_tests: dict[str, Any] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)


def score_report(
    forecasts: Mapping[str, RateForecast],
    frames: SeismicityFrames,
    *,
    reference: str,
    baselines: Sequence[str] = (),
    catalog_forecasts: Mapping[str, CatalogForecast] | None = None,
    score_settings: ScoreSettings | None = None,
    sections: Sequence[str] = (),
) -> ReportScores:
    """Score ``forecasts`` against the events of ``frames`` (see :func:`write_quake_report`).

    Raises
    ------
    KeyError
        ``reference``, a baseline or a catalog forecast's key not among ``forecasts``.
    ValueError
        Forecasts on other grids or windows than each other, or no target
        event in the test period.
    """
    from framecast.quake.scores import (
        cumulative_information_gain,
        observed_from_catalog,
        score_forecasts,
    )
    from framecast.quake.scores.catalog_tests import catalog_tests

    catalog_forecasts = dict(catalog_forecasts or {})
    for key in (reference, *baselines, *catalog_forecasts):
        if key not in forecasts:
            raise KeyError(f"forecast {key!r} not given; have {list(forecasts)}")
    named = {forecast.name: forecast for forecast in forecasts.values()}
    ref_name = forecasts[reference].name
    first = forecasts[reference]
    observed = observed_from_catalog(frames.events, first)
    if len(observed) == 0:
        raise ValueError(
            f"no target event (M >= {first.mc:g}, inside the grid) in the test period "
            f"{_period(first)}: nothing to score"
        )
    table = score_forecasts(
        named,
        observed,
        reference=ref_name,
        baselines=[forecasts[k].name for k in baselines],
        settings=score_settings,
    )
    gains = {
        name: cumulative_information_gain(forecast, first, observed)
        for name, forecast in named.items()
        if name != ref_name
    }
    tests = {
        forecasts[key].name: catalog_tests(simulated, observed)
        for key, simulated in catalog_forecasts.items()
    }
    return ReportScores(
        forecasts=named,
        reference=ref_name,
        table=table,
        observed=observed,
        counts=observed.counts((first.num_windows, *first.grid.shape)),  # (W, H, X)
        cumulative_gain=gains,
        catalog_tests=tests,
        sections=list(sections),
    )


def render_report(
    scores: ReportScores,
    frames: SeismicityFrames,
    out_dir: str | os.PathLike[str],
    maps: int = REPORT_MAPS,
) -> Path:
    """Write ``report.md``, ``scores.json`` and the figures of ``scores`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = scores.forecasts[scores.reference]
    document = scores.table.to_dict()
    document["catalog_tests"] = {name: t.to_dict() for name, t in scores.catalog_tests.items()}
    with atomic_write(out / "scores.json") as partial:
        partial.write_text(json.dumps(document, indent=2))
    figures = _figures(scores, frames, out, maps)
    lines = [
        "# Earthquake forecast report",
        "",
        f"Test period {_period(first)}: {first.num_windows} windows of {first.window_days:g} "
        f"days, {first.grid.shape[0]} x {first.grid.shape[1]} cells of {first.grid.cell:g} "
        f"{first.grid.unit} over lat {first.grid.lat_min:g}..{first.grid.lat_max:g}, "
        f"lon {first.grid.lon_min:g}..{first.grid.lon_max:g}; {len(scores.observed)} target "
        f"events with M >= {first.mc:g}. Rates are expected numbers of events per cell and "
        "window; log-likelihoods and information gains are in nats.",
        "",
        *scores.table.headline(),
        "",
        "## Forecasts",
        "",
        *_describe(scores.forecasts),
        "",
    ]
    for section in scores.sections:
        lines += [section.rstrip(), ""]
    lines += [scores.table.to_markdown(), ""]
    for name, tests in scores.catalog_tests.items():
        lines += [f"## Catalog-based tests of {name}", "", tests.to_markdown().rstrip(), ""]
    lines += ["## Figures", ""]
    for caption, path in figures.items():
        lines += [f"![{caption}]({path.name})", ""]
    path = out / "report.md"
    with atomic_write(path) as partial:
        partial.write_text("\n".join(lines))
    return path


def write_quake_report(
    forecasts: Mapping[str, RateForecast],
    frames: SeismicityFrames,
    out_dir: str | os.PathLike[str],
    *,
    reference: str,
    baselines: Sequence[str] = (),
    catalog_forecasts: Mapping[str, CatalogForecast] | None = None,
    score_settings: ScoreSettings | None = None,
    maps: int = REPORT_MAPS,
    sections: Sequence[str] = (),
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
    catalog_forecasts : mapping of str to CatalogForecast, optional
        The simulated catalogs behind simulation forecasts, keyed like
        ``forecasts``: they also get pyCSEP's catalog-based tests.
    score_settings : ScoreSettings, optional
        What the scores run with (:class:`~framecast.quake.scores.registry.ScoreSettings`:
        the simulations of the CSEP tests and their seed, the magnitude of the
        "event in this cell and window" of ROC, PR and Molchan, default mc, ...);
        None: the defaults.
    maps : int
        Windows shown as maps (the busiest ones).
    sections : sequence of str
        Markdown blocks placed before the score table.

    Raises
    ------
    KeyError
        ``reference`` or a baseline not among ``forecasts``.
    ValueError
        Forecasts on other grids or windows than each other; no target event.
    """
    scores = score_report(
        forecasts,
        frames,
        reference=reference,
        baselines=baselines,
        catalog_forecasts=catalog_forecasts,
        score_settings=score_settings,
        sections=sections,
    )
    return render_report(scores, frames, out_dir, maps)


# ------------------------------------------------------------------ rendering
def _figures(
    scores: ReportScores, frames: SeismicityFrames, out: Path, maps: int
) -> dict[str, Path]:
    first = scores.forecasts[scores.reference]
    windows = busiest_windows(scores.counts, maps)
    lat, lon = frames.events.latitude, frames.events.longitude
    magnitude = scores.table.binary_magnitude
    return {
        "forecast maps": plot_forecast_maps(
            scores.forecasts,
            (_event_windows(frames, first), lat, lon),
            windows,
            out / "forecast_maps.png",
        ),
        "expected and observed events per window": plot_rate_series(
            scores.forecasts, scores.counts.sum(axis=(1, 2)), out / "rate_series.png"
        ),
        "cumulative information gain": plot_cumulative_gain(
            first.window_start,
            scores.cumulative_gain,
            out / "cumulative_gain.png",
            scores.reference,
        ),
        "Molchan diagram": plot_molchan(
            {name: _molchan(scores.table, name) for name in scores.forecasts},
            out / "molchan.png",
            magnitude,
        ),
    }


def _describe(forecasts: Mapping[str, RateForecast]) -> list[str]:
    lines = ["| forecast | how it was made |", "|---|---|"]
    for name, forecast in forecasts.items():
        details = " ".join(forecast.details.replace("\n", "; ").replace("|", "/").split()) or "-"
        lines.append(f"| {name} | {details} |")
    return lines


def _period(forecast: RateForecast) -> str:
    end = forecast.window_start[-1] + days_to_timedelta(forecast.window_days)
    return f"{str(forecast.window_start[0])[:10]} to {str(end)[:10]}"


def _event_windows(frames: SeismicityFrames, forecast: RateForecast) -> np.ndarray:
    """int64 ``[N]``: the forecast window of each event of ``frames`` (-1 outside all)."""
    days = timedelta_to_days(frames.events.time - forecast.window_start[0])
    index = np.floor(days / forecast.window_days).astype(np.int64)
    return np.where((index >= 0) & (index < forecast.num_windows), index, -1)


def _molchan(table: ScoreTable, name: str) -> tuple[np.ndarray, np.ndarray, float]:
    curve = table[name].binary.molchan
    return curve.tau, curve.nu, float(curve.area_skill_score)
