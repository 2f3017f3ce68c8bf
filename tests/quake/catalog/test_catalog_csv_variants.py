"""Catalog CSVs from elsewhere: other id and header names, extra columns, missing columns."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from framecast.cli import main
from framecast.quake.catalog.readers import read_catalog, read_csv_catalog

ROWS = [
    ("ev1", "2008-01-01 05:19:47.961", "33.61819", "-116.66409", "1.23", "10.5"),
    ("ev2", "2008-01-01 07:08:36.601", "33.16443", "-116.09156", "1.02", "3.0"),
]


def write(path: Path, header: str, columns: str = "id,time,lat,lon,mag,depth") -> Path:
    """A CSV with ``header``; ``columns`` says which of ROWS' fields each header name holds."""
    order = columns.split(",")
    fields = {"id": 0, "time": 1, "lat": 2, "lon": 3, "mag": 4, "depth": 5, "extra": None}
    lines = [header]
    for row in ROWS:
        lines.append(",".join("x" if fields[c] is None else row[fields[c]] for c in order))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("id,time,latitude,longitude,magnitude,depth", "id,time,lat,lon,mag,depth"),
        ("EventID,Time,Lat,Lon,Mag,Depth_km", "id,time,lat,lon,mag,depth"),
        ("event_id,origin_time,lat,lng,mag,depth", "id,time,lat,lon,mag,depth"),
        ("Origin Time,Longitude,Latitude,Magnitude,evid,Depth", "time,lon,lat,mag,id,depth"),
        ("datetime,latitude,longitude,mag,eventid,depth", "time,lat,lon,mag,id,depth"),
        ("index,time,longitude,latitude,magnitude,depth", "id,time,lon,lat,mag,depth"),
    ],
)
def test_header_variants_read_the_same_catalog(tmp_path: Path, header: str, columns: str) -> None:
    catalog = read_csv_catalog(write(tmp_path / "c.csv", header, columns))
    assert catalog.event_id.tolist() == ["ev1", "ev2"]
    assert catalog.time[0] == np.datetime64("2008-01-01T05:19:47.961", "us")
    np.testing.assert_array_equal(catalog.latitude, [33.61819, 33.16443])
    np.testing.assert_array_equal(catalog.longitude, [-116.66409, -116.09156])
    np.testing.assert_array_equal(catalog.magnitude, [1.23, 1.02])
    np.testing.assert_array_equal(catalog.depth, [10.5, 3.0])


def test_extra_columns_are_ignored_with_one_warning(tmp_path: Path, caplog) -> None:
    header = "id,time,latitude,longitude,magnitude,station_count"
    path = write(tmp_path / "extra.csv", header, "id,time,lat,lon,mag,extra")
    with caplog.at_level(logging.WARNING):
        catalog = read_catalog(path)
    assert len(catalog) == 2 and np.isnan(catalog.depth).all()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "'station_count'" in warnings[0] and "extra.csv" in warnings[0]


def test_earthquakenpp_with_id_instead_of_index(tmp_path: Path, caplog) -> None:
    path = tmp_path / "npp.csv"
    path.write_text(
        "id,time,longitude,latitude,magnitude,x,y\n"
        "19,2008-01-01 05:19:47.961,-116.66409,33.61819,1.23,15.16,-15.03\n"
    )
    with caplog.at_level(logging.WARNING):
        catalog = read_catalog(path)
    assert catalog.event_id.tolist() == ["19"]
    assert not caplog.records  # EarthquakeNPP's x, y are known and ignored quietly


def test_a_real_id_wins_over_a_pandas_index(tmp_path: Path, caplog) -> None:
    path = tmp_path / "both.csv"
    path.write_text("index,event_id,time,lat,lon,mag\n0,ci1,2008-01-01T00:00:00,33,-116,2\n")
    with caplog.at_level(logging.WARNING):
        assert read_csv_catalog(path).event_id.tolist() == ["ci1"]
    assert "'index'" in caplog.text


def test_usgs_export_reads(tmp_path: Path) -> None:
    path = tmp_path / "usgs.csv"
    path.write_text(
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
        "2023-04-19T14:50:48.640Z,33.5,-116.5,8.2,2.1,ml,40,50,0.1,0.2,ci,ci123,"
        '2023-04-20T00:00:00.000Z,"5km N of Anza, CA",earthquake\n'
    )
    catalog = read_catalog(path)
    assert catalog.event_id.tolist() == ["ci123"] and catalog.magnitude_type.tolist() == ["ml"]
    assert catalog.depth.tolist() == [8.2]


@pytest.mark.parametrize(
    ("header", "columns", "expected"),
    [
        ("id,time,latitude,longitude,depth", "id,time,lat,lon,depth", "no magnitude column"),
        ("id,latitude,longitude,mag", "id,lat,lon,mag", "no time column"),
        ("id,time,mag", "id,time,mag", "no latitude, longitude column"),
        ("id,time,lat,latitude,lon,mag", "id,time,lat,lat,lon,mag", "'latitude' and 'lat' both"),
        ("id,time,lat,lon,mag,mag", "id,time,lat,lon,mag,mag", r"\['mag'\] appear twice"),
    ],
)
def test_missing_or_ambiguous_columns_are_one_line(
    tmp_path: Path, header: str, columns: str, expected: str
) -> None:
    path = write(tmp_path / "bad.csv", header, columns)
    with pytest.raises(ValueError, match=expected) as info:
        read_csv_catalog(path)
    assert "\n" not in str(info.value) and "bad.csv, line 1" in str(info.value)


def test_cli_missing_magnitude_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    path = write(tmp_path / "nomag.csv", "id,time,latitude,longitude", "id,time,lat,lon")
    out = tmp_path / "frames.h5"
    code = main(
        [
            "quake",
            "grid",
            "--catalog",
            str(path),
            "--out",
            str(out),
            "--region",
            "33,34,-117,-116",
            "--start",
            "2008-01-01",
            "--end",
            "2008-02-01",
            "--cell",
            "0.5",
            "--mc",
            "1.0",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no magnitude column" in err
    assert not out.exists()


def grid_argv(catalog: Path, out: Path, channels: str) -> list[str]:
    return [
        "quake",
        "grid",
        "--catalog",
        str(catalog),
        "--out",
        str(out),
        "--region",
        "33,34,-117,-116",
        "--cell",
        "0.5",
        "--start",
        "2008-01-01",
        "--end",
        "2008-01-03",
        "--bin-days",
        "1",
        "--mc",
        "1.0",
        "--channels",
        channels,
    ]


def test_mean_depth_without_depths_is_refused(tmp_path: Path, capsys) -> None:
    path = write(tmp_path / "nodepth.csv", "id,time,lat,lon,mag", "id,time,lat,lon,mag")
    out = tmp_path / "frames.h5"
    assert main(grid_argv(path, out, "count,mean_depth")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'mean_depth' needs event depths" in err
    assert not out.exists()
    assert main(grid_argv(path, out, "count")) == 0 and out.exists()


def test_mean_depth_with_some_depths_warns_once(tmp_path: Path, caplog) -> None:
    from framecast.quake.frames import SeismicityFrames

    path = write(tmp_path / "some.csv", "id,time,lat,lon,mag,depth", "id,time,lat,lon,mag,depth")
    path.write_text(path.read_text().replace(",3.0\n", ",\n"))  # the second event: no depth
    out = tmp_path / "frames.h5"
    with caplog.at_level(logging.WARNING):
        assert main(grid_argv(path, out, "mean_depth")) == 0
    assert [r.getMessage() for r in caplog.records] == [
        "mean_depth: 1 of 2 events have no depth; they are left out of their cell's mean"
    ]
    depth = SeismicityFrames.load(out).channel("mean_depth")
    assert sorted(depth[depth > 0].tolist()) == [10.5]
