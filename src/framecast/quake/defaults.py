"""The defaults of the earthquake application, each written once.

The settings dataclasses (:mod:`framecast.quake.settings`,
:class:`~framecast.quake.scores.registry.ScoreSettings`), the functions
that take the same values as keywords and the ``framecast quake`` options
all refer to these names. Nothing is imported here, so that the command
line can read them without loading numpy.
"""

from __future__ import annotations

NUM_SIMULATIONS = 1000
"""Simulated catalogs per window: of the ETAS baseline's simulated forecast
(``etas.num_simulations``) and of the simulation-based consistency tests of
the scores (``evaluation.num_simulations``, ``framecast quake evaluate``)."""

ETAS_INPUT_SIMULATIONS = 10_000
"""Simulated continuations per bin of a simulated ETAS input channel
(``etas_input.num_simulations``)."""

CATALOGS_KEPT = 1000
"""Simulated catalogs per window kept on disk for CSEP's catalog-based tests."""

BURN_IN_DAYS = 3650.0
"""Days an ETAS simulation runs before its catalog starts (``catalog.burn_in_days``,
``framecast quake etas-simulate --burn-in-days``)."""

PAIR_CUTOFF = 100.0
"""Triggering pairs of an ETAS fit kept within this many rupture lengths (Wells &
Coppersmith 1994; the cut-off of Mizrahi's ``etas`` package): ``etas.pair_cutoff``,
``framecast quake etas-fit --pair-cutoff``."""

REPORT_MAPS = 3
"""Test windows shown as forecast maps in a report (the busiest ones): ``evaluation.maps``."""

SCORE_SEED = 0
"""Seed of the scores' simulated catalogs and bootstrap resamples (``evaluation.seed``)."""
