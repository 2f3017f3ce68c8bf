import pytest

from framecast.models import build_model


def test_unknown_model_lists_valid_names():
    with pytest.raises(KeyError, match=r"unknown model 'prednot'.*persistence.*predrnn"):
        build_model("prednot", 1)


def test_unknown_cell_lists_valid_names():
    with pytest.raises(KeyError, match=r"unknown cell 'gru3d'.*convlstm.*stlstm"):
        build_model("predrnn", 1, {"cell": "gru3d"})


def test_unknown_option_lists_accepted_ones():
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['hidden'\].*hidden_channels"):
        build_model("predrnn", 1, {"hidden": 4})
    with pytest.raises(TypeError, match=r"cell 'convlstm'.*\['layer_norm'\]"):
        build_model("predrnn", 1, {"cell": "convlstm", "cell_options": {"layer_norm": True}})


def test_cell_given_to_a_model_without_cell():
    with pytest.raises(TypeError, match=r"persistence.*no recurrent cell"):
        build_model("persistence", 1, {"cell": "stlstm"})


def test_memory_cells_need_equal_widths():
    with pytest.raises(ValueError, match="same hidden_channels"):
        build_model("predrnn", 1, {"cell": "stlstm", "hidden_channels": [4, 8], "num_layers": 2})
    model = build_model(
        "predrnn", 1, {"cell": "convlstm", "hidden_channels": [4, 8], "num_layers": 2}
    )
    assert [c.hidden_channels for c in model.stack.cells] == [4, 8]
