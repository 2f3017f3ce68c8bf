"""ETAS (Ogata 1998; Mizrahi et al. 2021): parameters, study region, likelihood, fit,
simulation and forecasts.

Builds on :mod:`framecast.quake.catalog`, :mod:`framecast.quake.grid` and
:mod:`framecast.quake.rates`; never on the scores or the pipeline.
"""
