"""FDSN event services known by a short name (a small module: the CLI lists it at start-up)."""

PROVIDERS: dict[str, str] = {
    "ingv": "https://webservices.ingv.it/fdsnws/event/1/query",
    "usgs": "https://earthquake.usgs.gov/fdsnws/event/1/query",
    "emsc": "https://www.seismicportal.eu/fdsnws/event/1/query",
}
"""FDSN event ``/query`` endpoints by short name; any other is given by its URL."""
