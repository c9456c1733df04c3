"""ivig-kg: build traceable RDF knowledge graphs of clinical-trial evidence.

The data flows through modules named after its stages::

    sourcefile -> model -> triples -> store -> queries -> export

``cli`` sits on top and imports the library; nothing imports ``cli``.
"""

__version__ = "0.1.0"
