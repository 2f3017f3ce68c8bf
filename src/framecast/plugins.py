"""The plugin table: every built-in cell, model, dataset, loss, ... of framecast.

One table, read in one place: each kind's :class:`~framecast.registry.Registry`
(``framecast.cells.CELLS``, ``framecast.models.MODELS``, ...) reads its
section, name -> ``"module:attribute"``, and imports a module only when one of
its entries is first looked up (as pySTEPS's ``get_method`` tables do). So
what exists never depends on import order, ``framecast list`` and the README
tables name every entry, and this module imports nothing.

Adding a plugin is one new file plus one line here. A user's own plugin
needs no change to framecast: add the line at run time::

    from framecast.plugins import PLUGINS
    PLUGINS["cell"]["mycell"] = "my_package.my_cell:MyCell"

(or ``CELLS.add("mycell", "my_package.my_cell:MyCell")``, or decorate the
class with ``@CELLS.register("mycell")``).

Layers. The core (every module of ``framecast`` outside :data:`APPLICATIONS`
and the command line, :mod:`framecast.cli`) imports no application; the
applications build on the core, and the command line on both.
``tests/test_layers.py`` checks it on the source. This table is the one
place where the core names application code, as text: the lines of an
application's plugins (the ``etas_residual`` model, the ``seismicity``
datasets, the classifiers, the scores) are how an application adds what it
brings, and the registry imports them only when they are asked for.
"""

from __future__ import annotations

APPLICATIONS: tuple[str, ...] = (
    "framecast.quake",
    "framecast.classify",
    "framecast.experiments",
    "framecast.tuning",
)
"""Packages of the applications; every other module of framecast but the CLI is the core."""

PLUGINS: dict[str, dict[str, str]] = {
    # framecast.cells.CELLS: type[RecurrentCell], built as cls(in_channels, hidden_channels, ...)
    "cell": {
        "convlstm": "framecast.cells.convlstm:ConvLSTMCell",
        "stlstm": "framecast.cells.stlstm:SpatioTemporalLSTMCell",
        "causal_lstm": "framecast.cells.causal_lstm:CausalLSTMCell",
        "mflow": "framecast.cells.memory_flow:MemoryFlowLSTMCell",
        "mflow_eq3": "framecast.cells.memory_flow:MemoryFlowEq3Cell",
        "lstm": "framecast.cells.vector:VectorLSTMCell",
        "gru": "framecast.cells.vector:VectorGRUCell",
        "rnn": "framecast.cells.vector:VectorRNNCell",
    },
    # framecast.models.MODELS: type[ForecastModel], built as cls(in_channels, **options)
    "model": {
        "predrnn": "framecast.models.predrnn:PredRNN",
        "predrnn_pp": "framecast.models.predrnn_pp:PredRNNPlusPlus",
        "predrnn_v2": "framecast.models.predrnn_v2:PredRNNV2",
        "mim": "framecast.models.mim:MIM",
        "e3d_lstm": "framecast.models.e3d_lstm:E3DLSTM",
        "phydnet": "framecast.models.phydnet:PhyDNet",
        "simvp": "framecast.models.simvp:SimVP",
        "tau": "framecast.models.tau:TAU",
        "prednet": "framecast.models.prednet:PredNet",
        "encoder_forecaster": "framecast.models.encoder_forecaster:EncoderForecaster",
        "keras_convlstm": "framecast.models.keras_convlstm:KerasConvLSTM",
        "fc_lstm": "framecast.models.fc_lstm:FCLSTM",
        "stvae": "framecast.models.stvae:SpatioTemporalVideoAutoencoder",
        "persistence": "framecast.models.persistence:Persistence",
        "blank": "framecast.models.trivial:BlankFrame",
        "best_constant": "framecast.models.trivial:BestConstant",
        "mean_frame": "framecast.models.trivial:MeanFrame",
        "flow": "framecast.models.trivial:FlowExtrapolation",
        "side_input": "framecast.models.side_inputs:SideInputModel",
        "etas_residual": "framecast.quake.etas_residual:EtasResidual",
    },
    # framecast.data.DATASETS: factory(split, *, n_context, n_target, **options) -> Dataset
    "dataset": {
        "moving_mnist": "framecast.data.moving_mnist:moving_mnist",
        "mmnist_file": "framecast.data.mnist_test_file:mmnist_file",
        "moving_squares": "framecast.data.moving_squares:moving_squares",
        "radar_cells": "framecast.data.radar_cells:radar_cells",
        "array": "framecast.data.arrays:array_dataset",
        "prepared": "framecast.data.cache:prepared_videos",
        "kth": "framecast.data.kth:kth_dataset",
        "kitti": "framecast.data.kitti:kitti_dataset",
        "kitti_hkl": "framecast.data.kitti:kitti_hkl_dataset",
        "seismicity": "framecast.quake.dataset:seismicity",
        "seismicity_radio": "framecast.quake.radio.dataset:seismicity_radio",
    },
    # framecast.data.PREPARERS: prepare_x(source, out, **options) -> PrepareReport
    "preparer": {
        "kth": "framecast.data.kth:prepare_kth",
        "kitti": "framecast.data.kitti:prepare_kitti",
        "videos": "framecast.data.videos:prepare_videos",
        "frame_series": "framecast.data.frame_series:prepare_frame_series",
    },
    # framecast.training.LOSSES: loss(pred, target) -> scalar tensor
    "loss": {
        "mse": "framecast.training.losses:mse_loss",
        "l1+l2": "framecast.training.losses:l1_l2_loss",
        "bce": "framecast.training.losses:bce_loss",
        "poisson": "framecast.training.losses:poisson_loss",
    },
    # framecast.models.SIDE_ENCODERS: side image -> vector (the side_input model)
    "side encoder": {
        "conv_pool": "framecast.models.side_inputs:ConvPoolEncoder",
        "mlp": "framecast.models.side_inputs:MLPEncoder",
    },
    # framecast.models.SIDE_INPUTS: how the encoded side input enters the model
    "side input": {
        "broadcast_channels": "framecast.models.side_inputs:BroadcastChannels",
        "film": "framecast.models.side_inputs:FiLM",
        "log_rate": "framecast.models.side_inputs:LogRateShift",
    },
    # framecast.classify.registry.CLASSIFIERS: cls(input_size, num_classes, **options)
    "classifier": {
        "vector_rnn": "framecast.classify.models:VectorSequenceClassifier",
        "conv_rnn": "framecast.classify.models:ConvSequenceClassifier",
    },
    # framecast.classify.registry.LABELLED_DATA: factory(split, *, vocabulary=None, **options)
    "labelled dataset": {
        "synthetic_text": "framecast.classify.text:synthetic_text",
        "text_folder": "framecast.classify.text:text_folder",
        "imdb": "framecast.classify.text:imdb",
        "kth_actions": "framecast.classify.video_labels:kth_actions",
        "video_folders": "framecast.classify.video_labels:video_folders",
        "quake_alarms": "framecast.classify.alarms:quake_alarms",
    },
    # framecast.quake.scores.FORECAST_SCORES: ScoreSpec, rating one forecast; in column order
    "forecast score": {
        "n_forecast": "framecast.quake.scores.builtin:n_forecast",
        "log_likelihood": "framecast.quake.scores.builtin:log_likelihood",
        "log_likelihood_per_event": "framecast.quake.scores.builtin:log_likelihood_per_event",
        "n_test": "framecast.quake.scores.builtin:n_test",
        "n_test_windows": "framecast.quake.scores.builtin:n_test_windows",
        "m_test": "framecast.quake.scores.builtin:m_test",
        "s_test": "framecast.quake.scores.builtin:s_test",
        "st_test": "framecast.quake.scores.builtin:st_test",
        "l_test": "framecast.quake.scores.builtin:l_test",
        "binary": "framecast.quake.scores.builtin:binary",
    },
    # framecast.quake.scores.PAIR_SCORES: ScoreSpec, forecast A against B; in column order
    "pair score": {
        "t_test": "framecast.quake.scores.builtin:t_test",
        "w_test": "framecast.quake.scores.builtin:w_test",
        "bootstrap_1d": "framecast.quake.scores.builtin:bootstrap_1d",
        "bootstrap_30d": "framecast.quake.scores.builtin:bootstrap_30d",
    },
}
"""Kind -> name -> ``"module:attribute"``; names in lower case."""


def is_application(target: str) -> bool:
    """Whether a module (or a ``"module:attribute"`` target) belongs to an application."""
    module = target.partition(":")[0]
    return any(module == app or module.startswith(app + ".") for app in APPLICATIONS)
