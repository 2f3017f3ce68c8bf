"""Scores of gridded Poisson rate forecasts, one family per module.

* :mod:`.observed`: :class:`ObservedEvents`, the target events binned on the
  forecast's windows and cells (:func:`observed_from_catalog`);
* :mod:`.likelihood`: Poisson log-likelihood per window, information gain per
  earthquake and the paired T-test (Rhoades et al. 2011);
* :mod:`.consistency`: the CSEP N-, M-, S- and L-tests (Zechar et al. 2010);
* :mod:`.binary`: ROC AUC, average precision and the Molchan diagram's area
  skill score;
* :mod:`.table`: :func:`score_forecasts`, every score of several forecasts of
  the same bins in one :class:`ScoreTable`;
* :mod:`.pycsep_io`: pyCSEP's gridded-forecast files.

Builds on :mod:`framecast.quake.catalog` and :mod:`framecast.quake.rates`;
never on ETAS or the pipeline.
"""

from framecast.quake.scores.table import *  # noqa: F403
from framecast.quake.scores.table import __all__  # noqa: F401
