"""Ingest: a campaign's archive CSV files -> typed Parquet, every row loaded or rejected with its reason.

``archive`` finds the files, runs the checks and writes the tables (and the
account-table form); ``quirks`` types one file's columns in DuckDB SQL;
``scan`` is the byte pass that counts records independently of DuckDB.
"""

from helpers.ingest.archive import LoadReport, data_dictionary, files_table, ingest, ingest_account_table

__all__ = ["LoadReport", "data_dictionary", "files_table", "ingest", "ingest_account_table"]
