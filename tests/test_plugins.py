"""The plugin table: every built-in in one place, and a new plugin is one file plus one line.

Each test that adds a plugin writes its module into ``tmp_path`` (the "one
new file") and adds its line to :data:`framecast.plugins.PLUGINS` at run
time (the "one line"), then builds and uses it through framecast's own
machinery, by name, as a config would.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from framecast_testing import tiny_run_config

from framecast.cells import CELLS, RecurrentCell, build_cell
from framecast.classify.registry import CLASSIFIERS, LABELLED_DATA
from framecast.data import DATASETS, PREPARERS, build_dataset
from framecast.models import (
    MODELS,
    SIDE_ENCODERS,
    SIDE_INPUTS,
    ForecastModel,
    build_model,
    compatible_cells,
)
from framecast.plugins import APPLICATIONS, PLUGINS, is_application
from framecast.quake.scores.registry import FORECAST_SCORES, PAIR_SCORES, ScoreSpec
from framecast.registry import Registry
from framecast.training.losses import LOSSES

REGISTRIES: dict[str, Registry] = {
    "cell": CELLS,
    "model": MODELS,
    "dataset": DATASETS,
    "preparer": PREPARERS,
    "loss": LOSSES,
    "side encoder": SIDE_ENCODERS,
    "side input": SIDE_INPUTS,
    "classifier": CLASSIFIERS,
    "labelled dataset": LABELLED_DATA,
    "forecast score": FORECAST_SCORES,
    "pair score": PAIR_SCORES,
}


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on ``sys.path`` for the tests' plugin modules, forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("my_"):
            del sys.modules[name]


def _write(folder: Path, module: str, source: str) -> None:
    (folder / f"{module}.py").write_text(textwrap.dedent(source))


# ------------------------------------------------------------------------- the table
def test_every_kind_of_plugin_has_its_registry_reading_the_table():
    assert set(REGISTRIES) == set(PLUGINS)
    for kind, registry in REGISTRIES.items():
        assert registry.table is PLUGINS[kind], kind
        assert list(registry) == list(PLUGINS[kind]), kind  # names in table order


@pytest.mark.parametrize(
    ("kind", "name"), [(kind, name) for kind, table in PLUGINS.items() for name in table]
)
def test_every_table_line_names_an_object_of_its_kind(kind: str, name: str):
    assert name == name.lower() and name == name.strip()
    obj = REGISTRIES[kind].get(name)
    expected = {"cell": RecurrentCell, "model": ForecastModel}
    if kind in expected:
        assert inspect.isclass(obj) and issubclass(obj, expected[kind])
    elif kind.endswith("score"):
        assert isinstance(obj, ScoreSpec) and obj.key == name
    else:
        assert callable(obj)
    assert inspect.getdoc(obj), f"{kind} {name!r} needs a docstring (its line in docs/registry.md)"


def test_application_plugins_live_in_the_applications():
    """The core's kinds hold application lines; the applications' kinds, only their own."""
    for kind in ("classifier", "labelled dataset"):
        assert all(t.startswith("framecast.classify.") for t in PLUGINS[kind].values())
    for kind in ("forecast score", "pair score"):
        assert all(t.startswith("framecast.quake.") for t in PLUGINS[kind].values())
    added = {
        (kind, name)
        for kind, table in PLUGINS.items()
        for name, target in table.items()
        if is_application(target)
        and kind not in ("classifier", "labelled dataset")
        and not kind.endswith("score")
    }
    assert added == {
        ("model", "etas_residual"),
        ("dataset", "seismicity"),
        ("dataset", "seismicity_radio"),
    }
    assert all(app.startswith("framecast.") for app in APPLICATIONS)


def test_what_exists_does_not_depend_on_what_was_imported():
    """A fresh process that imports only the registries finds the applications' plugins."""
    code = """
        import sys
        from framecast.data import DATASETS
        from framecast.models import MODELS
        assert not [m for m in sys.modules if m.startswith("framecast.quake")], "imported early"
        assert "etas_residual" in MODELS.available() and "seismicity" in DATASETS
        print(MODELS.get("etas_residual").__name__, DATASETS.get("seismicity_radio").__name__)
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["EtasResidual", "seismicity_radio"]


# ----------------------------------------------------------------- one file, one line
CELL = '''
    """A new recurrent cell: h_t = tanh(W * [x_t, h_{t-1}])."""

    import torch
    from torch import nn

    from framecast.cells.base import RecurrentCell


    class PlainConvRNNCell(RecurrentCell):
        """A convolutional Elman cell."""

        def __init__(self, in_channels, hidden_channels, kernel_size=3):
            super().__init__(in_channels, hidden_channels, kernel_size)
            self.conv = nn.Conv2d(
                in_channels + hidden_channels, hidden_channels, kernel_size, padding=self.padding
            )

        def forward(self, x, state, memory=None):
            h, c = state
            h = torch.tanh(self.conv(torch.cat([x, h], dim=1)))
            return h, (h, c), memory
'''

MODEL = '''
    """A new forecasting model: the last frame times a learned gain."""

    import torch
    from torch import nn

    from framecast.models.base import ForecastModel, check_horizon


    class ScaledPersistence(ForecastModel):
        """The last context frame, times one learned number, at every lead time."""

        def __init__(self, in_channels, patch_size=1):
            super().__init__(in_channels, patch_size)
            self.gain = nn.Parameter(torch.ones(()))

        def rollout(self, context, horizon, target=None, true_mask=None):
            self.check_frames(context, "context")
            check_horizon(horizon)
            last = context[:, -1:].expand(-1, horizon, -1, -1, -1)
            return self.gain * torch.cat([context[:, :-1], last], dim=1)
'''

DATASET = '''
    """A new dataset: a bright square that walks one pixel right per frame."""

    import torch
    from torch.utils.data import Dataset


    class WalkingSquare(Dataset):
        def __init__(self, n_context, n_target, size, num_sequences):
            self.n_context, self.n_target = n_context, n_target
            self.size, self.num_sequences = size, num_sequences
            self.channels, self.height, self.width = 1, size, size  # the dataset contract

        def __len__(self):
            return self.num_sequences

        def __getitem__(self, item):
            t = self.n_context + self.n_target
            frames = torch.zeros(t, 1, self.size, self.size)
            for k in range(t):
                col = (item + k) % (self.size - 1)
                frames[k, 0, 2:4, col : col + 2] = 1.0
            return frames[: self.n_context], frames[self.n_context :]


    def walking_square(split, *, n_context=3, n_target=2, size=8, num_sequences=8):
        """A 2x2 square walking right, one pixel per frame."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be train, val or test, got {split!r}")
        return WalkingSquare(n_context, n_target, size, num_sequences)
'''

SCORE = '''
    """A new forecast score: the largest expected number of events in one bin."""

    from framecast.quake.scores.registry import score_spec


    @score_spec(
        "peak_rate",
        headers=("peak λ",),
        cells=lambda value: (f"{value:.2f}",),
        legend=lambda table: "- **peak λ**: the largest bin rate.",
    )
    def peak_rate(forecast, observed, settings):
        """The largest bin rate."""
        return float(forecast.rates.max())
'''


def test_a_new_cell_is_one_file_and_one_line(plugin_dir: Path, monkeypatch: pytest.MonkeyPatch):
    _write(plugin_dir, "my_cell", CELL)
    monkeypatch.setitem(PLUGINS["cell"], "plain_rnn", "my_cell:PlainConvRNNCell")

    assert "plain_rnn" in CELLS and "plain_rnn" in compatible_cells("predrnn")
    cell = build_cell("plain_rnn", 1, 4)
    assert type(cell).__name__ == "PlainConvRNNCell"
    # a registered model runs it by name, as `model.options.cell: plain_rnn` in a config would
    model = build_model(
        "predrnn", 1, {"cell": "plain_rnn", "hidden_channels": 4, "num_layers": 2, "patch_size": 2}
    )
    frames = torch.rand(2, 5, 1, 8, 8)
    out = model(frames[:, :3], 2)
    out.square().mean().backward()
    assert out.shape == (2, 2, 1, 8, 8)
    assert all(p.grad is not None for p in model.parameters())


def test_a_new_model_and_dataset_train_by_name(
    plugin_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from framecast import load
    from framecast.config import config_from_dict
    from framecast.training import train

    _write(plugin_dir, "my_model", MODEL)
    _write(plugin_dir, "my_data", DATASET)
    monkeypatch.setitem(PLUGINS["model"], "scaled_persistence", "my_model:ScaledPersistence")
    monkeypatch.setitem(PLUGINS["dataset"], "walking_square", "my_data:walking_square")

    item = build_dataset("walking_square", "train", n_context=3, n_target=2)[0]
    assert item[0].shape == (3, 1, 8, 8)
    config = tiny_run_config(
        tmp_path,
        model={"name": "scaled_persistence", "options": {}},
        data={"name": "walking_square", "split_options": {}},
        sampling={"mode": "none"},
    )
    result = train(config_from_dict(config))
    model, stored = load(result.last_checkpoint)
    assert stored.model.name == "scaled_persistence" and stored.data.name == "walking_square"
    assert type(model).__name__ == "ScaledPersistence" and model.gain.item() != 1.0


def test_a_new_score_is_one_file_and_one_line(plugin_dir: Path, monkeypatch: pytest.MonkeyPatch):
    from framecast.quake.grid import Grid
    from framecast.quake.rates import RateForecast
    from framecast.quake.scores import ObservedEvents, score_forecasts

    _write(plugin_dir, "my_score", SCORE)
    monkeypatch.setitem(PLUGINS["forecast score"], "peak_rate", "my_score:peak_rate")

    grid = Grid(33.0, 34.0, -117.0, -116.0, 0.25)  # 4 x 4 cells
    starts = np.datetime64("2020-01-01", "us") + np.arange(3) * np.timedelta64(7, "D")

    def forecast(name: str, rate: float) -> RateForecast:
        return RateForecast(name, np.full((3, 4, 4), rate), starts, 7.0, grid, 2.5, 1.0)

    observed = ObservedEvents(
        np.array([0, 2]), np.array([1, 3]), np.array([0, 2]), np.array([2.5, 3.1])
    )
    table = score_forecasts(
        [forecast("a", 0.2), forecast("b", 1.0)],
        observed,
        reference="b",
        forecast_scores=["n_test", "peak_rate"],
        pair_scores=["t_test", "bootstrap_30d"],
        num_resamples=50,
    )
    assert list(FORECAST_SCORES)[-1] == "peak_rate"  # after the built-ins, in table order
    assert table["a"].peak_rate == pytest.approx(0.2)
    markdown = table.to_markdown()
    assert "| N-test δ1 / δ2 | peak λ |" in markdown and "- **peak λ**: the largest" in markdown
    assert table.to_dict()["forecasts"]["a"]["peak_rate"] == pytest.approx(0.2)
