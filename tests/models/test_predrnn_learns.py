import pytest
from framecast_testing import learning_check


@pytest.mark.parametrize("cell", ["convlstm", "stlstm"])
def test_predrnn_learns_moving_squares(cell):
    options = {
        "cell": cell,
        "hidden_channels": 8,
        "num_layers": 2,
        "kernel_size": 3,
        "patch_size": 4,
    }
    r = learning_check("predrnn", options, steps=100, lr=1e-2)
    assert r["trained"] < 0.5 * r["initial"]
    assert r["trained"] < r["persistence"]
