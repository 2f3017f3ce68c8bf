"""Earthquake forecasting: catalogs, gridding into frames, ETAS, forecasts and scores.

The pieces, in the order of a study: read or fetch a catalog
(:func:`read_catalog`, :func:`fetch_catalog`, :class:`CatalogStore`), grid it
into frames (:class:`Grid`, :func:`grid_catalog`), simulate or fit ETAS
(:func:`simulate_etas`, :func:`fit_etas`), make rate forecasts
(:class:`RateForecast`: :func:`etas_rate_forecast`,
:func:`smoothed_seismicity_forecast`, :func:`network_forecast`) and
catalog forecasts (:class:`CatalogForecast`: :func:`simulated_etas_forecast`),
score them (:func:`score_forecasts`, :func:`catalog_tests`) and report
(:func:`write_quake_report`); :func:`run_experiment` chains them.

Imports go one way, from the bottom up: ``catalog/`` (events, readers,
store, fetch, magnitudes) < ``grid``, ``rates``, ``catalog_forecast`` <
``etas/`` and ``scores/`` (neither imports the other; both read ``defaults``) <
the pipeline (frames, reference, network, dataset, report < ``network_settings``
and ``radio.aux_section`` < ``settings`` < ``stages`` <
the variants: seed sweep, residual ablations, ETAS variants, radio <
``experiment`` < cli, demo). ``tests/test_layers.py`` checks that no import
runs in a circle.
ObsPy (QuakeML) and pyCSEP (CSEP tests) come with
``pip install 'framecast[quake]'`` and are imported only when used.
"""

from __future__ import annotations

from framecast.lazy import lazy_exports

# Names load on first use (PEP 562): building the ``seismicity`` dataset or
# the ``etas_residual`` model imports this package, and should not pay for
# SciPy, the ETAS likelihood or the scores until someone asks for them.
_EXPORTS: dict[str, str] = {
    "CHANNELS": "framecast.quake.frames",
    "CatalogForecast": "framecast.quake.catalog_forecast",
    "catalog_tests": "framecast.quake.scores.catalog_tests",
    "estimate_completeness": "framecast.quake.catalog.magnitudes",
    "import_csep": "framecast.quake.scores.pycsep_io",
    "simulated_etas_forecast": "framecast.quake.etas.simulated_forecast",
    "COLUMNS": "framecast.quake.catalog.events",
    "Catalog": "framecast.quake.catalog.events",
    "CatalogStore": "framecast.quake.catalog.store",
    "ETASFit": "framecast.quake.etas.fit",
    "ETASParameters": "framecast.quake.etas.parameters",
    "FetchQuery": "framecast.quake.catalog.fetch",
    "Grid": "framecast.quake.grid",
    "QuakeExperiment": "framecast.quake.settings",
    "RateForecast": "framecast.quake.rates",
    "SeismicityFrames": "framecast.quake.frames",
    "branching_ratio": "framecast.quake.etas.parameters",
    "etas_rate_forecast": "framecast.quake.etas.forecast",
    "fetch_catalog": "framecast.quake.catalog.fetch",
    "fit_etas": "framecast.quake.etas.fit",
    "grid_catalog": "framecast.quake.frames",
    "load_experiment": "framecast.quake.settings",
    "network_forecast": "framecast.quake.network",
    "observed_from_catalog": "framecast.quake.scores.table",
    "parse_region": "framecast.quake.catalog.region",
    "read_catalog": "framecast.quake.catalog.readers",
    "read_csv_catalog": "framecast.quake.catalog.readers",
    "read_fdsn_text": "framecast.quake.catalog.readers",
    "read_quakeml": "framecast.quake.catalog.readers",
    "run_experiment": "framecast.quake.experiment",
    "score_forecasts": "framecast.quake.scores.table",
    "simulate_etas": "framecast.quake.etas.simulate",
    "smoothed_seismicity_forecast": "framecast.quake.reference",
    "to_datetime64": "framecast.quake.catalog.events",
    "write_catalog": "framecast.quake.catalog.store",
    "write_quake_report": "framecast.quake.report",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
