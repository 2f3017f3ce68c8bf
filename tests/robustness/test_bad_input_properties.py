"""Property-based checks (Hypothesis) of the input pipelines issue 23 hardened.

Generated YAML text, override values and duplicated catalogs: every input
either loads, or is refused with one line of the documented error types;
nothing else escapes, and the catalog pipeline counts each event once.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framecast.config import load_config
from framecast.quake.catalog.events import Catalog
from framecast.yamlio import load_yaml_text

YAML_PIECES = st.sampled_from(
    ["a", ":", " ", "\n", "- ", "&x ", "*x", "[", "]", "{", "}", ",", "!!str ", "!tag ",
     "'", '"', "1e3", "null", "\t", "#", "|", ">", "? ", "%YAML 1.1\n", "---\n", "\x00", "é"]
)  # fmt: skip
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_any_yaml_text_loads_or_is_one_line(text):
    try:
        load_yaml_text(text, "override 'k=v'")
    except ValueError as error:
        message = str(error)
        assert message.startswith("override 'k=v'") and "\n" not in message


@FAST
@given(
    st.sampled_from(["optim.lr", "train.max_steps", "model.options.cell", "data.batch_size"]),
    st.lists(YAML_PIECES, max_size=20).map("".join),
)
def test_any_override_value_gives_a_config_or_a_documented_error(key, raw):
    try:
        load_config("configs/quick/predrnn.yaml", [f"{key}={raw}"])
    except (ValueError, TypeError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        assert "\n" not in str(message)


@st.composite
def duplicated_catalogs(draw: st.DrawFn) -> tuple[Catalog, int]:
    """A catalog of ``n`` distinct events with some rows repeated, and ``n``."""
    n = draw(st.integers(1, 30))
    seconds = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    repeats = draw(st.lists(st.integers(0, n - 1), max_size=40))
    with_ids = draw(st.booleans())
    rows = np.array([*range(n), *repeats])
    rng = np.random.default_rng(n)
    lat, lon = rng.uniform(-10, 10, n), rng.uniform(-10, 10, n)
    times = np.datetime64("2010-01-01", "us") + np.array(seconds, "timedelta64[s]")
    catalog = Catalog.from_columns(
        time=times[rows],
        latitude=lat[rows],
        longitude=lon[rows],
        magnitude=np.full(len(rows), 3.0),
        # without ids a reader numbers the rows: every row has its own id
        event_id=np.array([f"ev{r}" for r in rows]) if with_ids else None,
    )
    return catalog, n


@FAST
@given(duplicated_catalogs())
def test_duplicates_are_removed_once_and_counted(case):
    catalog, n = case
    kept, same_id, same_place = catalog.without_duplicates()
    assert len(kept) == n
    assert same_id + same_place == len(catalog) - n
    again, more_ids, more_places = kept.without_duplicates()
    assert len(again) == n and more_ids == more_places == 0
