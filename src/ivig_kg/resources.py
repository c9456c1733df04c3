"""Where the bundled ontology, queries and data live, installed or in a checkout.

A wheel ships them under ``ivig_kg/_resources``; in a source checkout they are
the repository's top-level ``ontology/``, ``queries/`` and ``data/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def root() -> Path:
    """The directory holding ``ontology/``, ``queries/`` and ``data/``."""
    here = Path(__file__).resolve().parent
    installed = here / "_resources"
    if installed.is_dir():
        return installed
    checkout = here.parents[1]
    if (checkout / "ontology").is_dir():
        return checkout
    raise FileNotFoundError("ivig-kg resources (ontology/, queries/, data/) not found")


def ontology_file() -> Path:
    return root() / "ontology" / "ivig-trial.ttl"


def context_file() -> Path:
    return root() / "ontology" / "context.jsonld"


def queries_dir() -> Path:
    return root() / "queries"


def data_dir() -> Path:
    return root() / "data"


def articles_dir() -> Path:
    return data_dir() / "articles"
