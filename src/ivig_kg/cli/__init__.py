"""The ``ivig-kg`` command line: thin commands over the library.

Each command parses its options and calls one library function; the library
never prints or exits. :func:`guarded` turns an :class:`IvigKgError` into a
message on stderr and its exit code (1 domain error, 2 usage), once, here.
Heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

from ivig_kg.cli.app import app, main

# Command modules register themselves on ``app`` when imported.
from ivig_kg.cli import core as _core  # noqa: F401  isort: skip
from ivig_kg.cli import links as _links  # noqa: F401  isort: skip
from ivig_kg.cli import audit as _audit  # noqa: F401  isort: skip
from ivig_kg.cli import validate as _validate  # noqa: F401  isort: skip
from ivig_kg.cli import serve as _serve  # noqa: F401  isort: skip
from ivig_kg.cli import plot as _plot  # noqa: F401  isort: skip
from ivig_kg.cli import synth as _synth  # noqa: F401  isort: skip

__all__ = ["app", "main"]
