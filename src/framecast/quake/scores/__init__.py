"""Scores of gridded Poisson rate forecasts, one family per module.

* :mod:`.observed`: :class:`ObservedEvents`, the target events binned on the
  forecast's windows and cells (:func:`observed_from_catalog`);
* :mod:`.likelihood`: Poisson log-likelihood per window, information gain per
  earthquake, the paired T-test and the W-test (Rhoades et al. 2011), which
  assume independent events;
* :mod:`.consistency`: the CSEP N-, M-, S- and L-tests (Zechar et al. 2010);
* :mod:`.binary`: ROC AUC, average precision and the Molchan diagram's area
  skill score;
* :mod:`.bootstrap`: block-bootstrap intervals of the information gain
  (whole days, 30-day blocks) for clustered events;
* :mod:`.moving_blocks`: moving- and circular-block bootstrap intervals
  (Künsch 1989; Politis & Romano 1992) and their block-length sensitivity;
* :mod:`.seed_pooling`: those intervals also drawing training seeds and
  baseline Monte Carlo replicates;
* :mod:`.diebold_mariano`: the Diebold-Mariano test of the daily
  log-likelihood differences with a Newey-West variance;
* :mod:`.busiest_month`: the gain without the month holding the most events;
* :mod:`.catalog_tests`: pyCSEP's catalog-based N-, S-, M- and
  pseudo-likelihood tests of simulation forecasts (:class:`CatalogForecast`);
* :mod:`.registry`: the per-forecast and pairwise scores the table runs:
  adding a score is one decorated function;
* :mod:`.table`: :func:`score_forecasts`, every score of several forecasts of
  the same bins in one :class:`ScoreTable`;
* :mod:`.pycsep_io`: pyCSEP's gridded-forecast files.

Builds on :mod:`framecast.quake.catalog`, :mod:`framecast.quake.rates` and
:mod:`framecast.quake.catalog_forecast`; never on ETAS or the pipeline.
"""

from framecast.quake.scores.table import *  # noqa: F403
from framecast.quake.scores.table import __all__  # noqa: F401
