"""The engine's ceiling: DuckDB copying CSV files to Parquet, every column as text, nothing else.

No typing, no validation, no row accounting: what `traction ingest` would cost
if it only moved bytes through DuckDB. DuckDB's default settings.

    python benchmarks/duckdb_ceiling.py OUT_DIR CSV [CSV ...]
"""

import sys
from pathlib import Path

import duckdb


def main(out_dir, *csv_paths):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for path in csv_paths:
        target = out_dir / (Path(path).stem + ".parquet")
        rows = con.execute(f"COPY (SELECT * FROM read_csv('{path}', all_varchar = true, header = true)) "
                           f"TO '{target}' (FORMAT parquet)").fetchone()[0]
        print(f"{path}: {rows:,} rows -> {target}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
