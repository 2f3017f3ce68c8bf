"""The configs that reproduce the source material hold the source's settings (issue 24, 5-8).

One table: paper, config, setting (a dotted key of the loaded config), the
source's value. A config that drifts from its paper fails here, in the fast
suite; tests/test_paper_configs_slow.py trains each one for a few steps.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from framecast.config import EvaluationConfig, load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

PREDRNN = "Wang et al. 2017, PredRNN (NeurIPS), Sec. 4.1"
PREDRNN_SCRIPT = "thuml/predrnn-pytorch mnist_script/predrnn_mnist_train.sh"
PREDRNN_RADAR = "Wang et al. 2017, PredRNN (NeurIPS), Sec. 4.3 (as this project reads it)"
SHI = "Shi et al. 2015, ConvLSTM (NeurIPS), Sec. 4.1"
SRIVASTAVA = "Srivastava et al. 2015, LSTM video representations (ICML), Sec. 2.3, 3"
PATRAUCEAN = "Patraucean et al. 2016, spatio-temporal video autoencoder (ICLR-W), Sec. 2"
KERAS = "Keras example conv_lstm.py, Next-frame prediction with Conv-LSTM"
INGV = "issue 4 (the INGV fetch) and issue 24 item 8 (Italy, PredNet)"

DBZ_20_30_40 = [20 / 70, 30 / 70, 40 / 70]
"""Thresholds of 20, 30 and 40 dBZ as frame values (frames are dBZ / 70)."""

MNIST2 = "mmnist/predrnn_paper.yaml"
MNIST3 = "mmnist/predrnn_paper_mnist3.yaml"
SCRIPT = "mmnist/predrnn.yaml"

SOURCE_SETTINGS: list[tuple[str, str, str, Any]] = [
    # PredRNN, Moving MNIST-2, the paper's stated training
    (PREDRNN, MNIST2, "model.name", "predrnn"),
    (PREDRNN, MNIST2, "model.options.cell", "stlstm"),
    (PREDRNN, MNIST2, "model.options.num_layers", 4),
    (PREDRNN, MNIST2, "model.options.hidden_channels", 128),
    (PREDRNN, MNIST2, "model.options.kernel_size", 5),
    (PREDRNN_SCRIPT, MNIST2, "model.options.patch_size", 4),
    (PREDRNN, MNIST2, "train.loss", "l1+l2"),
    (PREDRNN, MNIST2, "optim.lr", 1e-3),
    (PREDRNN, MNIST2, "data.batch_size", 8),
    (PREDRNN, MNIST2, "train.max_steps", 80_000),
    (PREDRNN, MNIST2, "train.reverse_input", False),
    (PREDRNN, MNIST2, "data.n_context", 10),
    (PREDRNN, MNIST2, "data.n_target", 10),
    (PREDRNN, MNIST2, "data.options.num_digits", 2),
    (PREDRNN, MNIST2, "data.options.image_size", 64),
    (PREDRNN, MNIST2, "data.split_options.test.num_sequences", 10_000),
    # the MNIST-3 transfer test: trained on 2 digits, tested on 3
    (PREDRNN, MNIST3, "data.options.num_digits", 2),
    (PREDRNN, MNIST3, "data.split_options.test.num_digits", 3),
    (PREDRNN, MNIST3, "data.split_options.test.num_sequences", 10_000),
    (PREDRNN, MNIST3, "train.loss", "l1+l2"),
    (PREDRNN, MNIST3, "optim.lr", 1e-3),
    (PREDRNN, MNIST3, "train.max_steps", 80_000),
    # the authors' script, which the paper config is set beside
    (PREDRNN_SCRIPT, SCRIPT, "train.loss", "mse"),
    (PREDRNN_SCRIPT, SCRIPT, "optim.lr", 3e-4),
    (PREDRNN_SCRIPT, SCRIPT, "train.reverse_input", True),
    (PREDRNN_SCRIPT, SCRIPT, "train.max_steps", 160_000),
    # ConvLSTM encoder-forecaster, Moving MNIST
    (SHI, "mmnist/convlstm_shi.yaml", "model.name", "encoder_forecaster"),
    (SHI, "mmnist/convlstm_shi.yaml", "model.options.cell", "convlstm"),
    (SHI, "mmnist/convlstm_shi.yaml", "model.options.hidden_channels", [128, 64, 64]),
    (SHI, "mmnist/convlstm_shi.yaml", "model.options.num_layers", 3),
    (SHI, "mmnist/convlstm_shi.yaml", "model.options.kernel_size", 5),
    (SHI, "mmnist/convlstm_shi.yaml", "model.options.patch_size", 4),
    (SHI, "mmnist/convlstm_shi.yaml", "model.options.cell_options.peephole", True),
    (SHI, "mmnist/convlstm_shi.yaml", "model.options.output_activation", "sigmoid"),
    (SHI, "mmnist/convlstm_shi.yaml", "train.loss", "bce"),
    (SHI, "mmnist/convlstm_shi.yaml", "optim.lr", 1e-3),
    (SHI, "mmnist/convlstm_shi.yaml", "data.n_context", 10),
    (SHI, "mmnist/convlstm_shi.yaml", "data.n_target", 10),
    (SHI, "mmnist/convlstm_shi.yaml", "data.split_options.train.num_sequences", 10_000),
    (SHI, "mmnist/convlstm_shi.yaml", "data.split_options.val.num_sequences", 2_000),
    (SHI, "mmnist/convlstm_shi.yaml", "data.split_options.test.num_sequences", 3_000),
    # FC-LSTM composite autoencoder
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "model.name", "fc_lstm"),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "model.options.hidden_size", 2048),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "model.options.cell", "lstm"),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "model.options.frame_size", 64),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "model.options.conditional", False),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "model.options.reconstruction_weight", 1.0),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "model.options.output_activation", "sigmoid"),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "train.loss", "bce"),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "data.n_context", 10),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "data.n_target", 10),
    (SRIVASTAVA, "mmnist/fc_lstm_srivastava.yaml", "data.options.num_digits", 2),
    # spatio-temporal video autoencoder
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.name", "stvae"),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.cell", "convlstm"),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.encoder_channels", 16),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.encoder_kernel", 7),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.hidden_channels", 64),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.kernel_size", 7),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.flow_kernel", 15),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.decoder_kernel", 7),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.flow_smoothness", 1e-2),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.patch_size", 1),
    (PATRAUCEAN, "mmnist/stvae_patraucean.yaml", "model.options.output_activation", "sigmoid"),
    # the Keras ConvLSTM example on moving squares
    (KERAS, "squares/keras_convlstm.yaml", "model.name", "keras_convlstm"),
    (KERAS, "squares/keras_convlstm.yaml", "model.options.filters", 40),
    (KERAS, "squares/keras_convlstm.yaml", "model.options.num_layers", 4),
    (KERAS, "squares/keras_convlstm.yaml", "model.options.kernel_size", 3),
    (KERAS, "squares/keras_convlstm.yaml", "model.options.patch_size", 1),
    (KERAS, "squares/keras_convlstm.yaml", "model.options.output_activation", "sigmoid"),
    (KERAS, "squares/keras_convlstm.yaml", "train.loss", "bce"),
    (KERAS, "squares/keras_convlstm.yaml", "data.name", "moving_squares"),
    (KERAS, "squares/keras_convlstm.yaml", "data.batch_size", 10),
    (KERAS, "squares/keras_convlstm.yaml", "train.max_epochs", 300),
    (KERAS, "squares/keras_convlstm.yaml", "data.n_context", 7),
    (KERAS, "squares/keras_convlstm.yaml", "data.split_options.train.num_sequences", 950),
    (KERAS, "squares/keras_convlstm.yaml", "data.split_options.val.num_sequences", 50),
    (KERAS, "squares/keras_convlstm.yaml", "sampling.mode", "teacher"),
    # PredRNN's radar echo setting, on the radar-like generator
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "data.name", "radar_cells"),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "data.options.image_size", 100),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "data.n_context", 10),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "data.n_target", 10),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "data.split_options.train.num_sequences", 7_800),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "data.split_options.test.num_sequences", 1_800),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "model.options.cell", "stlstm"),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "model.options.num_layers", 2),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "model.options.hidden_channels", 128),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "model.options.kernel_size", 3),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "train.loss", "l1+l2"),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "optim.lr", 1e-3),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "data.batch_size", 8),
    (PREDRNN_RADAR, "radar/predrnn_paper.yaml", "train.max_steps", 80_000),
    (
        PREDRNN_RADAR,
        "radar/predrnn_paper.yaml",
        "evaluation.thresholds",
        [20 / 70, 30 / 70, 40 / 70],
    ),
    # Italy from INGV, forecast by PredNet
    (INGV, "quake/italy_ingv_prednet.yaml", "frames.region", "35.5,47.5,6.5,18.5"),
    (INGV, "quake/italy_ingv_prednet.yaml", "frames.mc", 2.5),
    (INGV, "quake/italy_ingv_prednet.yaml", "frames.start", "2005-01-01"),
    (INGV, "quake/italy_ingv_prednet.yaml", "network.model.name", "prednet"),
    (INGV, "quake/italy_ingv_prednet.yaml", "network.model.options.cell", "convlstm"),
    (INGV, "quake/italy_ingv_prednet.yaml", "catalog.path", "data/italy_ingv.h5"),
]
"""(source, config under configs/, dotted setting, the source's value)."""

HEADERS: dict[str, str] = {
    MNIST2: "PredRNN",
    MNIST3: "MNIST-3",
    "mmnist/convlstm_shi.yaml": "Shi et al.",
    "mmnist/fc_lstm_srivastava.yaml": "Srivastava",
    "mmnist/stvae_patraucean.yaml": "Patraucean",
    "squares/keras_convlstm.yaml": "Next-frame prediction with Conv-LSTM",
    "radar/predrnn_paper.yaml": "PredRNN",
    "quake/italy_ingv_prednet.yaml": "INGV",
}
"""Config -> the paper or source its header comment must name."""

COSTED = [name for name in HEADERS if not name.startswith("quake/")]
"""The video configs, whose headers say what one training step costs here."""


def _settings(name: str) -> dict[str, Any]:
    path = CONFIGS / name
    if name.startswith("quake/"):
        from framecast.quake.experiment import load_experiment

        return load_experiment(path).to_dict()
    return load_config(path).to_dict()


def _lookup(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"{dotted}: no {part!r}"
        node = node[part]
    return node


@pytest.mark.parametrize(
    ("source", "name", "key", "value"),
    SOURCE_SETTINGS,
    ids=[f"{name}:{key}" for _, name, key, _ in SOURCE_SETTINGS],
)
def test_config_holds_the_source_setting(source: str, name: str, key: str, value: Any) -> None:
    got = _lookup(_settings(name), key)
    if isinstance(value, float) or (
        isinstance(value, list) and value and isinstance(value[0], float)
    ):
        assert got == pytest.approx(value), f"{name} {key}: {got!r}, {source} says {value!r}"
    else:
        assert got == value, f"{name} {key}: {got!r}, {source} says {value!r}"


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_header_names_the_source(name: str) -> None:
    header = (CONFIGS / name).read_text().split("\n\n")[0]
    comments = "\n".join(line for line in header.splitlines() if line.startswith("#"))
    assert HEADERS[name] in comments, f"{name}: header does not name {HEADERS[name]!r}"


@pytest.mark.parametrize("name", sorted(COSTED))
def test_header_gives_the_step_cost_here(name: str) -> None:
    text = (CONFIGS / name).read_text()
    assert "# COST" not in text, f"{name}: step cost not filled in"
    assert "s per training step" in text and "Intel(R) Xeon(R) Processor" in text, name


def test_paper_config_says_how_it_differs_from_the_script() -> None:
    header = (CONFIGS / MNIST2).read_text()
    assert "configs/mmnist/predrnn.yaml" in header
    for difference in ("loss", "optim.lr", "reverse", "max_steps"):
        assert difference in header


def test_mnist3_evaluate_option_changes_the_test_split_only(tmp_path: Path, monkeypatch) -> None:
    """`framecast evaluate RUN data.split_options.test.num_digits=3` scores 3 digits; the
    trivial baselines still fit on the 2-digit training split."""
    import framecast.data.moving_mnist as moving_mnist
    from framecast.reporting import _config_for_data
    from framecast.training.loaders import make_dataset

    sys.path.insert(0, str(Path(__file__).parent / "data"))
    from fake_mnist import TEST_VALUES, TRAIN_VALUES, solid_digits, write_idx_file

    mnist = tmp_path / "mnist"
    mnist.mkdir()
    write_idx_file(mnist / "train-images-idx3-ubyte.gz", solid_digits(TRAIN_VALUES), True)
    write_idx_file(mnist / "t10k-images-idx3-ubyte.gz", solid_digits(TEST_VALUES), True)
    monkeypatch.setattr(moving_mnist, "VAL_START", 6)  # 10 fake training digits
    config = load_config(CONFIGS / MNIST2, [f"data.options.mnist_dir={mnist}"])
    scored = _config_for_data(config, None, ["data.split_options.test.num_digits=3"])
    assert make_dataset(scored.data, "test").num_digits == 3
    assert make_dataset(scored.data, "train").num_digits == 2
    assert len(make_dataset(scored.data, "test")) == 10_000
    smaller = _config_for_data(config, None, ["data.split_options.test.num_sequences=3000"])
    assert len(make_dataset(smaller.data, "test")) == 3_000


def test_evaluation_thresholds_are_checked_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"evaluation\.thresholds .* got -0\.5"):
        EvaluationConfig(thresholds=[0.2, -0.5])
    with pytest.raises(ValueError, match=r"got nan"):
        EvaluationConfig(thresholds=[float("nan")])
    with pytest.raises(ValueError, match=r"fss_scales \[3\] needs evaluation\.thresholds"):
        EvaluationConfig(fss_scales=[3])
    with pytest.raises(ValueError, match=r"whole numbers of pixels >= 1, got \[0\]"):
        EvaluationConfig(thresholds=[0.3], fss_scales=[0])
    with pytest.raises(TypeError, match=r"evaluation\.thresholds"):
        load_config(None, ["evaluation.thresholds=0.3"])  # a number, not a list
    assert EvaluationConfig(thresholds=[1, 0.5]).thresholds == [1.0, 0.5]


def test_teacher_forcing_feeds_every_true_frame() -> None:
    from framecast.config import SamplingConfig
    from framecast.training.sampling import true_frame_probabilities

    assert true_frame_probabilities(SamplingConfig(mode="teacher"), 10**6) == (1.0, 1.0)
    with pytest.raises(ValueError, match=r"'teach'.*teacher"):
        true_frame_probabilities(SamplingConfig(mode="teach"), 0)


def test_quake_rate_networks_start_at_the_mean_rate_where_they_can() -> None:
    """PredNet's rate output takes the pipeline's starting bias; a model without the option
    (the video autoencoder) is built without one instead of being refused."""
    from framecast.quake.experiment import load_experiment

    path = CONFIGS / "quake/italy_ingv_prednet.yaml"
    network = load_experiment(path).network
    options = network.config.model.options
    assert options["output_bias"] == 0.0 and options["output_activation"] == "softplus"
    assert network.bias_from_rate  # the training period's mean rate, once the frames are read
    stvae = ["network.model.name=stvae", "network.model.options={cell: convlstm}"]
    network = load_experiment(path, stvae).network
    options = network.config.model.options
    assert "output_bias" not in options and options["output_activation"] == "softplus"
    assert not network.bias_from_rate
