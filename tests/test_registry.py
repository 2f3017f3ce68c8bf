import pytest

from framecast.registry import Registry


def test_register_get_ignores_case():
    reg: Registry[int] = Registry("thing")
    reg.register("Alpha")(1)
    assert reg.get("alpha") == 1
    assert reg.get("ALPHA") == 1
    assert reg.available() == ["alpha"]
    assert "Alpha" in reg


def test_unknown_name_lists_valid_names():
    reg: Registry[int] = Registry("thing")
    reg.register("a")(1)
    reg.register("b")(2)
    with pytest.raises(KeyError, match=r"unknown thing 'c'; valid things: a, b"):
        reg.get("c")


def test_duplicate_registration_refused():
    reg: Registry[int] = Registry("thing")
    reg.register("a")(1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("A")(2)
