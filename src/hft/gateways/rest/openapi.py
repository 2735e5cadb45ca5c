"""The REST API's OpenAPI document, without starting a venue: the dashboard's client is generated from it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import msgspec

from hft.config.settings import Settings
from hft.gateways.rest.app import create_app
from hft.service.venue import Venue


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document that ``GET /openapi.json`` serves."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Venue(Settings(data_dir=Path(data_dir))))
        document: dict[str, Any] = app.openapi_schema.to_schema()
    return document


def openapi_json() -> str:
    """Return the document as stable, readable JSON (sorted keys, two-space indent, final newline)."""
    encoded = msgspec.json.encode(openapi_document(), order="sorted")
    return msgspec.json.format(encoded, indent=2).decode() + "\n"
