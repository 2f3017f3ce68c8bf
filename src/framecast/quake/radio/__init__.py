"""Radio precursors: VLF/ELF recordings as an auxiliary input to the forecasters.

The chain: read recordings (:mod:`.readers`: WAV, miniSEED/SAC through
ObsPy, CSV/NumPy series, folders of spectrogram images), turn them into
log-power spectrograms and aggregate those into time slots of the
seismicity frames' bins (:mod:`.spectrogram`, :mod:`.aggregate`), store
them in HDF5 (:mod:`.store`, resumable over many files: :mod:`.prepare`),
cut each frame bin's side image without leakage (:mod:`.alignment`), and
train any framecast network with the side input
(:class:`framecast.models.side_inputs.SideInputModel`) through the
``seismicity_radio`` dataset (:mod:`.dataset`). :mod:`.synthetic` builds a
synthetic receiver over an ETAS catalog; :mod:`.experiment` compares the
same network with, without and with a time-shuffled radio input.

Importing this package loads nothing heavy.
"""
