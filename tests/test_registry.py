import sys

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


# ------------------------------------------------------------ table entries, imported lazily
@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A folder on ``sys.path`` holding ``lazy_thing.py``, which counts its imports."""
    (tmp_path / "lazy_thing.py").write_text(
        "import builtins\n"
        "builtins.lazy_thing_imports = getattr(builtins, 'lazy_thing_imports', 0) + 1\n"
        "class Thing:\n    '''A thing.'''\n"
        "OTHER = 2\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    import builtins

    sys.modules.pop("lazy_thing", None)
    if hasattr(builtins, "lazy_thing_imports"):
        del builtins.lazy_thing_imports


def test_a_table_entry_is_imported_on_first_look_up_only(module_dir):
    import builtins

    table = {"thing": "lazy_thing:Thing"}
    reg: Registry[type] = Registry("thing", table)
    assert reg.available() == ["thing"] and "THING" in reg and len(reg) == 1
    assert reg.source("thing") == "lazy_thing:Thing"
    assert "lazy_thing" not in sys.modules  # naming the entries imports nothing
    assert reg.get("Thing").__name__ == "Thing"
    assert reg.get("thing") is reg["thing"] and builtins.lazy_thing_imports == 1


def test_a_line_added_to_the_table_later_exists_from_then_on(module_dir):
    table: dict[str, str] = {}
    reg: Registry[object] = Registry("thing", table)
    assert "other" not in reg
    table["other"] = "lazy_thing:OTHER"  # what a user's code does: one line
    assert reg.get("other") == 2
    reg.add("again", "lazy_thing:Thing")
    assert table["again"] == "lazy_thing:Thing" and list(reg) == ["other", "again"]
    with pytest.raises(ValueError, match="already registered"):
        reg.add("OTHER", "lazy_thing:Thing")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("again")(object())
    with pytest.raises(ValueError, match="'module:attribute'"):
        reg.add("third", "lazy_thing.Thing")
    table["other"] = "lazy_thing:Thing"  # a changed line is read again
    assert reg.get("other").__name__ == "Thing"
    del reg["other"]
    assert "other" not in table and "other" not in reg


def test_a_table_entry_that_cannot_be_imported_names_itself(module_dir):
    reg: Registry[object] = Registry("thing", {"gone": "no_such_module:X", "typo": "lazy_thing:Y"})
    with pytest.raises(ImportError, match=r"thing 'gone' is 'no_such_module:X', which cannot"):
        reg.get("gone")
    with pytest.raises(ImportError, match=r"'lazy_thing' has no attribute 'Y'"):
        reg.get("typo")


def test_table_entries_come_before_registered_ones_in_iteration():
    reg: Registry[object] = Registry("thing", {"b": "os:sep"})
    reg.register("a")(1)
    assert list(reg) == ["b", "a"] and reg.available() == ["a", "b"]
    assert reg.source("a") == "builtins:a"
    del reg["a"]
    assert list(reg) == ["b"]
    with pytest.raises(KeyError, match="valid things: b"):
        del reg["zzz"]
