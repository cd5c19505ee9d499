"""Shared logic for traction's notebooks: archive ingest, simulation, statistics, narrative.

Modules follow the flow of the analysis:
``archive`` (CSV -> Parquet), ``simulate`` (a takedown with a known truth),
``frames`` (tidy per-account / per-tweet frames), ``engagement`` and ``models``
(statistics), ``content`` (language, hashtags, mentions), ``figures``,
``results`` (the results.json contract), ``claims`` (the narrative),
``pipeline`` (the papermill runner) and ``cli`` (the ``traction`` command).
"""

__version__ = "0.1.0"
