"""Catalog readers: FDSN text, QuakeML, pyCSEP and EarthquakeNPP CSV, and dispatch."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest

from framecast.quake.catalog.events import Catalog
from framecast.quake.catalog.readers import (
    detect_format,
    parse_fdsn_text_lines,
    read_catalog,
    read_csv_catalog,
    read_fdsn_text,
    read_quakeml,
)
from framecast.quake.catalog.store import CatalogStore

HEADER = (
    "#EventID|Time|Latitude|Longitude|Depth/Km|Author|Catalog|Contributor|ContributorID|"
    "MagType|Magnitude|MagAuthor|EventLocationName|EventType"
)
# Two rows as INGV writes them, a quarry blast, an empty depth, an empty magnitude.
ROWS = [
    "34726341|2023-04-19T14:50:48.640000|43.8972|11.9382|14.1|SURVEY-INGV||||ML|0.9|--|"
    "5 km NW Bagno di Romagna (FC)|earthquake",
    "40271581|2024-08-30T19:23:15.940000|40.831333|14.147833|2.4|SURVEY-INGV-OV#SiSmi||||Md|3.7|"
    "--|Campi Flegrei|earthquake",
    "40000001|2024-05-02T10:11:12.500000|45.1|9.2|0.0|SURVEY-INGV||||ML|1.8|--|"
    "Cava presso Brescia (BS)|quarry blast",
    "40000002|2024-06-03T01:02:03.000000|42.5|13.2||SURVEY-INGV||||ML|2.1|--|Norcia (PG)|"
    "earthquake",
    "40000003|2024-07-04T05:06:07.250000|38.1|15.6|10.5|SURVEY-INGV||||||--|Stretto di Messina|"
    "earthquake",
]
FDSN_TEXT = "\n".join([HEADER, *ROWS]) + "\n"
# The same rows as an older response without the EventType column.
OLD_FDSN_TEXT = "\n".join(line.rsplit("|", 1)[0] for line in FDSN_TEXT.splitlines()) + "\n"

QTM_CSV = Path(__file__).resolve().parents[3] / "../shared/data/catalogs/qtm_sanjacinto_m1.csv"


def _row(catalog: Catalog, event_id: str) -> dict[str, object]:
    (index,) = np.flatnonzero(catalog.event_id == event_id)
    return {name: column[index] for name, column in catalog.columns().items()}


# ------------------------------------------------------------------ FDSN text
def test_fdsn_text_fields_and_default_drops_non_earthquakes() -> None:
    catalog = read_fdsn_text(FDSN_TEXT.encode())

    assert catalog.event_id.tolist() == ["34726341", "40271581", "40000002", "40000003"]
    first = _row(catalog, "34726341")
    assert first["time"] == np.datetime64("2023-04-19T14:50:48.640000", "us")
    assert (first["latitude"], first["longitude"], first["depth"]) == (43.8972, 11.9382, 14.1)
    assert (first["magnitude"], first["magnitude_type"]) == (0.9, "ML")
    assert first["event_type"] == "earthquake"
    assert _row(catalog, "40271581")["magnitude_type"] == "Md"


def test_fdsn_text_event_types_none_keeps_every_type() -> None:
    everything = read_fdsn_text(FDSN_TEXT.encode(), event_types=None)
    blasts = read_fdsn_text(FDSN_TEXT.encode(), event_types=["Quarry Blast"])

    assert len(everything) == 5
    assert _row(everything, "40000001")["event_type"] == "quarry blast"
    assert blasts.event_id.tolist() == ["40000001"]
    # The fetcher's helper keeps every type by default: filtering happens on reading the store.
    assert len(parse_fdsn_text_lines(FDSN_TEXT)) == 5


def test_fdsn_text_empty_fields_are_nan_or_empty() -> None:
    catalog = read_fdsn_text(FDSN_TEXT.encode())

    assert np.isnan(_row(catalog, "40000002")["depth"])
    no_magnitude = _row(catalog, "40000003")
    assert np.isnan(no_magnitude["magnitude"])
    assert no_magnitude["magnitude_type"] == ""
    assert no_magnitude["depth"] == 10.5


def test_fdsn_text_without_event_type_column() -> None:
    catalog = read_fdsn_text(OLD_FDSN_TEXT.encode())

    # No type to filter on: every row is kept, with event type "" (unknown).
    assert len(catalog) == 5
    assert set(catalog.event_type.tolist()) == {""}
    assert len(catalog.filter()) == 5
    assert _row(catalog, "40271581")["magnitude"] == 3.7


def test_fdsn_text_matches_columns_by_name_not_position() -> None:
    text = (
        "# magnitude | eventid|TIME | longitude|latitude\n"
        "2.5|abc|2020-01-02T03:04:05.000006|13.5|42.25\n"
    )
    catalog = parse_fdsn_text_lines(text)

    assert catalog.event_id.tolist() == ["abc"]
    assert catalog.time[0] == np.datetime64("2020-01-02T03:04:05.000006", "us")
    assert (catalog.latitude[0], catalog.longitude[0], catalog.magnitude[0]) == (42.25, 13.5, 2.5)
    assert np.isnan(catalog.depth[0])


def test_fdsn_text_sources_path_bytes_and_files_agree(tmp_path: Path) -> None:
    path = tmp_path / "ingv.txt"
    path.write_text(FDSN_TEXT, encoding="utf-8")
    expected = read_fdsn_text(path).content_hash()

    assert read_fdsn_text(str(path)).content_hash() == expected
    assert read_fdsn_text(FDSN_TEXT.encode()).content_hash() == expected
    assert read_fdsn_text(io.StringIO(FDSN_TEXT)).content_hash() == expected
    assert read_fdsn_text(io.BytesIO(FDSN_TEXT.encode())).content_hash() == expected
    assert read_fdsn_text(FDSN_TEXT.replace("\n", "\r\n").encode()).content_hash() == expected
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        read_fdsn_text(tmp_path / "missing.txt")


def test_fdsn_text_line_numbers_count_leading_blank_lines() -> None:
    text = "\n\n" + "\n".join([HEADER, ROWS[0], ROWS[1].replace("|3.7|", "|x|")])

    assert len(parse_fdsn_text_lines("\n\n" + FDSN_TEXT)) == 5
    with pytest.raises(ValueError, match="line 5: Magnitude 'x'"):
        parse_fdsn_text_lines(text)


def test_fdsn_text_empty_body_and_header_only_are_empty() -> None:
    assert len(parse_fdsn_text_lines("")) == 0
    assert len(parse_fdsn_text_lines(b"")) == 0
    assert len(parse_fdsn_text_lines(HEADER + "\n")) == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (HEADER + "|Region", r"unknown column 'Region'.*expected columns among #?EventID\|Time"),
        (HEADER.replace("|Time|", "|Origin|"), "unknown column 'Origin'"),
        (HEADER.replace("Magnitude|", ""), r"lacks the required column 'Magnitude'.*found"),
        ("EventID|Time|Latitude|Longitude|Magnitude", "not an FDSN text header"),
        (HEADER + "|eventtype", "'eventtype' appears twice"),
    ],
)
def test_fdsn_text_bad_header(header: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        parse_fdsn_text_lines(header + "\n")


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (ROWS[1].replace("2024-08-30T19:23:15.940000", "30/08/2024"), "Time '30/08/2024'"),
        (ROWS[1].replace("2024-08-30T", "2024-13-30T"), "Time '2024-13-30T19:23:15.940000'"),
        (ROWS[1].replace("40.831333", "north"), "Latitude 'north' is not a number"),
        (ROWS[1].replace("40.831333", "91.5"), r"Latitude '91.5' is out of range.*\[-90, 90\]"),
        (ROWS[1].replace("14.147833", "-181"), r"Longitude '-181' is out of range"),
        (ROWS[1].replace("|3.7|", "|big|"), "Magnitude 'big' is not a number"),
        (ROWS[1].replace("|2.4|", "|inf|"), "Depth/Km 'inf'; expected a finite number"),
        (ROWS[1].replace("40271581|", "|"), "EventID is empty"),
        (ROWS[1] + "|extra", "15 fields.*expected 14 fields"),
    ],
)
def test_fdsn_text_malformed_row_names_line_and_value(bad_row: str, expected: str) -> None:
    text = "\n".join([HEADER, ROWS[0], bad_row, ROWS[2]])
    with pytest.raises(ValueError, match=rf"line 3: .*{expected}"):
        parse_fdsn_text_lines(text, source="query.txt")


def test_fdsn_text_truncated_last_line_is_an_error() -> None:
    truncated = FDSN_TEXT[: FDSN_TEXT.index("|Norcia (PG)")]  # the body stops mid-row
    last_line = len(truncated.splitlines())

    with pytest.raises(ValueError, match=rf"line {last_line}: 12 fields.*truncated"):
        parse_fdsn_text_lines(truncated)


# -------------------------------------------------------------------- QuakeML
def _write_quakeml(path: Path) -> None:
    pytest.importorskip("obspy", reason="QuakeML needs ObsPy (pip install 'framecast[quake]')")
    from obspy import UTCDateTime
    from obspy.core.event import Catalog as ObsPyCatalog
    from obspy.core.event import Event, Magnitude, Origin, ResourceIdentifier

    preferred = Origin(
        time=UTCDateTime("2023-04-19T14:50:48.640000"),
        latitude=43.8972,
        longitude=11.9382,
        depth=14100.0,
    )
    other = Origin(time=UTCDateTime("2023-04-19T14:50:50"), latitude=44.0, longitude=12.0)
    ml = Magnitude(mag=0.9, magnitude_type="ML")
    md = Magnitude(mag=1.4, magnitude_type="Md")
    ingv = Event(
        resource_id=ResourceIdentifier(
            "smi:webservices.ingv.it/fdsnws/event/1/query?eventId=34726341"
        ),
        event_type="earthquake",
        origins=[other, preferred],
        magnitudes=[md, ml],
    )
    ingv.preferred_origin_id = preferred.resource_id
    ingv.preferred_magnitude_id = ml.resource_id
    blast = Event(
        resource_id=ResourceIdentifier("quakeml:us.anss.org/event/ci37219156"),
        event_type="quarry blast",
        origins=[
            Origin(time=UTCDateTime("2024-05-02T10:11:12.5"), latitude=34.1, longitude=-117.3)
        ],
        magnitudes=[Magnitude(mag=1.8, magnitude_type="Ml")],
    )
    untyped = Event(
        resource_id=ResourceIdentifier("smi:local/event/no-magnitude"),
        origins=[Origin(time=UTCDateTime("2024-06-03T01:02:03"), latitude=-33.5, longitude=-70.6)],
    )
    ObsPyCatalog(events=[ingv, blast, untyped]).write(str(path), format="QUAKEML")


def test_quakeml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "events.xml"
    _write_quakeml(path)

    everything = read_quakeml(path, event_types=None)
    earthquakes = read_quakeml(path)

    assert everything.event_id.tolist() == ["34726341", "ci37219156", "no-magnitude"]
    ingv = _row(everything, "34726341")  # the preferred origin and magnitude, not the first
    assert ingv["time"] == np.datetime64("2023-04-19T14:50:48.640000", "us")
    assert (ingv["latitude"], ingv["longitude"]) == (43.8972, 11.9382)
    assert ingv["depth"] == pytest.approx(14.1)
    assert (ingv["magnitude"], ingv["magnitude_type"]) == (0.9, "ML")
    blast = _row(everything, "ci37219156")  # no preferred ones: the first
    assert (blast["magnitude"], blast["event_type"], blast["latitude"]) == (
        1.8,
        "quarry blast",
        34.1,
    )
    assert np.isnan(blast["depth"])
    untyped = _row(everything, "no-magnitude")
    assert np.isnan(untyped["magnitude"])
    assert (untyped["magnitude_type"], untyped["event_type"]) == ("", "")
    assert earthquakes.event_id.tolist() == ["34726341", "no-magnitude"]
    assert read_catalog(path).content_hash() == earthquakes.content_hash()  # by the suffix
    renamed = path.rename(tmp_path / "events")
    assert read_catalog(renamed, event_types=None).content_hash() == everything.content_hash()


def test_quakeml_without_obspy_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "obspy", None)  # makes `import obspy` fail
    with pytest.raises(ImportError, match=r"pip install 'framecast\[quake\]'"):
        read_quakeml(tmp_path / "events.xml")


def test_quakeml_not_quakeml_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    pytest.importorskip("obspy", reason="QuakeML needs ObsPy (pip install 'framecast[quake]')")
    path.write_text("<?xml version='1.0'?><html></html>")
    with pytest.raises(ValueError, match=r"broken\.xml.*not a readable QuakeML"):
        read_quakeml(path)


# ------------------------------------------------------------------------ CSV
def test_pycsep_csv_round_trip_through_pycseps_writer(tmp_path: Path) -> None:
    pytest.importorskip("csep", reason="pyCSEP not installed (pip install 'framecast[quake]')")
    from csep.core.catalogs import CSEPCatalog

    epoch_ms = [1199164787961, 1199164788000, 1514737439302]  # pyCSEP keeps milliseconds
    events = [
        ("ci1", epoch_ms[0], 33.61819, -116.66409, 10.5, 1.23),
        ("ci2", epoch_ms[1], 33.16443, -116.09156, 3.0, 2.5),
        ("ci3", epoch_ms[2], 33.70608, -116.81087, 7.25, 4.1),
    ]
    path = tmp_path / "pycsep.csv"
    CSEPCatalog(data=events, catalog_id=0).write_ascii(str(path))

    catalog = read_csv_catalog(path)

    assert catalog.event_id.tolist() == ["ci1", "ci2", "ci3"]
    assert catalog.time.astype("datetime64[ms]").astype(np.int64).tolist() == epoch_ms
    np.testing.assert_array_equal(catalog.latitude, [e[2] for e in events])
    np.testing.assert_array_equal(catalog.longitude, [e[3] for e in events])
    np.testing.assert_array_equal(catalog.depth, [e[4] for e in events])
    np.testing.assert_array_equal(catalog.magnitude, [e[5] for e in events])
    assert read_csv_catalog(path, layout="pycsep").content_hash() == catalog.content_hash()


def test_pycsep_csv_without_ids_numbers_events_like_pycsep(tmp_path: Path) -> None:
    pytest.importorskip("csep", reason="pyCSEP not installed (pip install 'framecast[quake]')")
    from csep.utils.readers import csep_ascii

    path = tmp_path / "no_ids.csv"
    path.write_text(
        "lon,lat,mag,time_string,depth,catalog_id,event_id\n"
        "-116.6,33.6,1.5,2008-01-01T05:19:47.961000,10.0,0,\n"
        "-116.7,33.7,2.5,2008-01-01T05:19:48,5.0,0,\n"
    )

    catalog = read_csv_catalog(path)

    assert catalog.event_id.tolist() == [str(event[0]) for event in csep_ascii(str(path))]
    assert catalog.time[1] == np.datetime64("2008-01-01T05:19:48", "us")


def test_pycsep_csv_with_several_catalogs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stochastic.csv"
    path.write_text(
        "lon,lat,mag,time_string,depth,catalog_id,event_id\n"
        "-116.6,33.6,1.5,2008-01-01T05:19:47.961000,10.0,0,a\n"
        "-116.7,33.7,2.5,2008-01-01T05:19:48,5.0,1,b\n"
    )
    with pytest.raises(ValueError, match="holds 2 catalogs"):
        read_csv_catalog(path)


NPP_CSV = (
    "index,time,longitude,latitude,magnitude,x,y\n"
    "19,2008-01-01 05:19:47.961,-116.66409,33.61819,1.23,15.16,-15.03\n"
    "38,2008-01-01 07:08:36.601,-116.09156,33.16443,1.02,-35.23,38.17\n"
    "\n"
    "898532,2017-12-31 16:35:59.302,-116.81087,33.70608,1.84,24.96,-28.59\n"
)


def test_earthquakenpp_csv(tmp_path: Path) -> None:
    path = tmp_path / "npp.csv"
    path.write_text(NPP_CSV)

    catalog = read_csv_catalog(path)

    assert catalog.event_id.tolist() == ["19", "38", "898532"]
    assert catalog.time[0] == np.datetime64("2008-01-01T05:19:47.961", "us")
    np.testing.assert_array_equal(catalog.longitude, [-116.66409, -116.09156, -116.81087])
    np.testing.assert_array_equal(catalog.magnitude, [1.23, 1.02, 1.84])
    assert np.isnan(catalog.depth).all()
    assert set(catalog.event_type.tolist()) == {""}
    assert len(catalog.filter()) == 3  # unknown types count as earthquakes


def test_qtm_san_jacinto_catalog() -> None:
    if not QTM_CSV.is_file():
        pytest.skip(f"real catalog not available at {QTM_CSV}")
    catalog = read_catalog(QTM_CSV)

    assert len(catalog) == 21_291
    assert catalog.time[0] == np.datetime64("2008-01-01T05:19:47.961", "us")
    assert catalog.event_id[0] == "19"
    assert np.all(np.diff(catalog.time) >= np.timedelta64(0, "us"))
    assert np.nanmin(catalog.magnitude) >= 1.0
    assert len(np.unique(catalog.event_id)) == len(catalog)


@pytest.mark.parametrize(
    ("text", "layout", "expected"),
    [
        ("lon;lat;mag\n1;2;3\n", "auto", r"unknown CSV catalog header 'lon;lat;mag'.*pyCSEP.*Npp"),
        (NPP_CSV.replace(",y\n", ",y,lat\n", 1), "auto", r"'latitude' and 'lat' both give"),
        (NPP_CSV, "pycsep", r"pycsep CSV layout needs column\(s\) 'lon', 'lat', 'mag'"),
        (NPP_CSV, "quakeml", r"unknown CSV layout 'quakeml'"),
        ("index,time,longitude,latitude,x,y\n", "earthquakenpp", "no magnitude column"),
        ("", "auto", "line 1: empty; expected a CSV header"),
        ("\nlon,lat,mag,time_string,depth\n", "auto", "line 1: empty; expected a CSV header"),
    ],
)
def test_csv_bad_header_or_layout(tmp_path: Path, text: str, layout: str, expected: str) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"(?i){expected}"):
        read_csv_catalog(path, layout=layout)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("2008-01-01 07:08:36.601", "yesterday", "line 3: time 'yesterday'"),
        ("33.16443", "", "line 3: latitude is empty"),
        ("1.02,", "1.02,,", "line 3: 8 fields.*expected 7"),
    ],
)
def test_csv_malformed_row_names_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = tmp_path / "npp.csv"
    path.write_text(NPP_CSV.replace(old, new))
    with pytest.raises(ValueError, match=rf"npp.csv, {expected}"):
        read_csv_catalog(path)


# ------------------------------------------------------------------- dispatch
def test_read_catalog_dispatches_by_suffix_and_content(tmp_path: Path) -> None:
    expected = read_fdsn_text(FDSN_TEXT.encode(), event_types=None)
    files = {
        "ingv.txt": FDSN_TEXT,
        "ingv_query": FDSN_TEXT,  # no suffix: sniffed from "#EventID"
        "npp.csv": NPP_CSV,
        "npp.dat": NPP_CSV,  # an unknown suffix: sniffed from the CSV header
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    CatalogStore.write(tmp_path / "store.h5", expected)

    assert detect_format(tmp_path / "ingv_query") == "fdsn-text"
    assert detect_format(tmp_path / "npp.dat") == "csv"
    assert read_catalog(tmp_path / "ingv.txt").content_hash() == expected.filter().content_hash()
    assert len(read_catalog(tmp_path / "ingv_query", event_types=None)) == 5
    assert len(read_catalog(tmp_path / "npp.dat")) == 3
    assert read_catalog(tmp_path / "npp.csv", layout="earthquakenpp").event_id[0] == "19"
    # The store keeps every type; read_catalog filters like the other readers.
    assert read_catalog(tmp_path / "store.h5").content_hash() == expected.filter().content_hash()
    assert len(read_catalog(tmp_path / "store.h5", event_types=None)) == 5
    assert len(read_catalog(tmp_path / "ingv_query", format="fdsn-text")) == 4


def test_read_catalog_unknown_format_errors(tmp_path: Path) -> None:
    path = tmp_path / "catalog.bin"
    path.write_bytes(b"\x00\x01 nothing known")

    with pytest.raises(ValueError, match=r"cannot tell the catalog format of .*catalog.bin"):
        read_catalog(path)
    with pytest.raises(ValueError, match=r"unknown catalog format 'json'.*'quakeml'"):
        read_catalog(path, format="json")
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        read_catalog(tmp_path / "nowhere.csv")
