"""Earthquake catalogs: the event table, readers, the HDF5 store, FDSN fetching, magnitudes.

The bottom of the quake stack: nothing here imports from the rest of
``framecast.quake`` (grid, ETAS, scores or the pipeline build on it).
"""
