"""Ingest: a campaign's archive CSV files -> typed Parquet, every row loaded or rejected with its reason.

``archive`` finds the files, keeps the cache and the work folder and publishes the
tables (both forms); ``load`` reads one kind's files into a staged table, falling back
to the record map when a file's lines do not add up; ``stream`` is the one parallel
pass over a file (DuckDB types, Python numbers lines and splits loaded from rejected
rows); ``quirks`` types one file's columns in DuckDB SQL; ``scan`` hashes and counts
lines (every file) and counts records by quote parity (the slow path); ``recover``
splits a damaged file into its good records and its damaged stretches; ``assemble``
settles duplicates and builds accounts, rejected rows and the accounting.
"""

from helpers.ingest.archive import LoadReport, data_dictionary, files_table, ingest, ingest_account_table

__all__ = ["LoadReport", "data_dictionary", "files_table", "ingest", "ingest_account_table"]
