#!/usr/bin/env bash
# Reads asynclog's Parquet output with two independent readers, pyarrow and DuckDB, installed
# from PyPI into a venv under target/.
#
#   .ci/checks/parquet_readers.sh            runs examples/parquet_demo into target/parquet-demo
#                                            and checks row and level counts against what it logged
#   .ci/checks/parquet_readers.sh DIR        checks DIR/*.parquet written by anything else
#                                            (types, JSON, counts consistent between readers)
#
# Checks: every file opens; row counts agree; column types (pyarrow's Arrow types and DuckDB's
# SQL types: DuckDB 2.0.1 reads the default TIMESTAMP(MICROS, isAdjustedToUTC=true) column as
# TIMESTAMP WITH TIME ZONE and timestamp_extra_ns as USMALLINT); the nanosecond timestamps both
# rebuild agree; SELECT level, count(*) ... GROUP BY level; fields_json parses as a JSON object
# in every row where it is not null. Reader versions are pinned in lib/ci_venv.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/checks/lib/ci_venv.sh

expect=""
if [ $# -ge 1 ]; then
    dir="$1"
else
    dir="$target/parquet-demo"
    rm -rf "$dir"
    # The dev profile: `cargo test --all-features` has just built it (a release build of
    # parquet takes minutes).
    expect="$(cargo run --quiet --all-features --example parquet_demo -- "$dir" 200000 | sed -n 's/^EXPECT //p')"
fi

"$venv/bin/python" - "$dir" "$expect" <<'PY'
import glob, json, sys
import duckdb, pyarrow as pa, pyarrow.parquet as pq

directory, expect = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(f"{directory}/*.parquet"))
assert files, f"no *.parquet files in {directory}"
pattern = f"{directory}/*.parquet"

# pyarrow: open every file, check the schema and metadata exactly.
expected_arrow = {
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamp_extra_ns": pa.uint16(),
    "level": pa.dictionary(pa.int8(), pa.string()),
    "message": pa.string(),
    "thread_id": pa.uint64(),
    "fields_json": pa.string(),
}
rows_pa, levels_pa = 0, {}
for path in files:
    table = pq.read_table(path)
    schema = table.schema
    got = {f.name: f.type for f in schema}
    assert got == expected_arrow, f"{path}: arrow types {got}"
    nullable = {f.name: f.nullable for f in schema}
    assert nullable == {"timestamp": False, "timestamp_extra_ns": False, "level": False, "message": False,
                        "thread_id": False, "fields_json": True}, f"{path}: {nullable}"
    meta = pq.read_metadata(path).metadata
    assert meta.get(b"asynclog.schema_version") == b"2", meta
    assert b"asynclog.version" in meta, meta
    rows_pa += table.num_rows
    for value in table.column("level").to_pylist():
        levels_pa[value] = levels_pa.get(value, 0) + 1
    for text in table.column("fields_json").to_pylist():
        if text is not None:
            assert isinstance(json.loads(text), dict), text

# DuckDB: types as it sees them, counts, and JSON validity in SQL.
con = duckdb.connect()
types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{pattern}')").fetchall())
# TIMESTAMP(MICROS, isAdjustedToUTC=true) plus the nanoseconds past it (unsigned 16-bit).
expected_duck = {
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_extra_ns": "USMALLINT",
    "level": "VARCHAR",
    "message": "VARCHAR",
    "thread_id": "UBIGINT",
    "fields_json": "VARCHAR",
}
assert types == expected_duck, f"duckdb {duckdb.__version__} types: {types}"
rows_duck = con.execute(f"SELECT count(*) FROM '{pattern}'").fetchone()[0]
levels_duck = dict(con.execute(f"SELECT level, count(*) FROM '{pattern}' GROUP BY level").fetchall())
bad_json = con.execute(
    f"SELECT count(*) FROM '{pattern}' WHERE fields_json IS NOT NULL "
    "AND (NOT json_valid(fields_json) OR json_type(fields_json::JSON) <> 'OBJECT')"
).fetchone()[0]
assert bad_json == 0, f"{bad_json} rows with invalid fields_json"
null_ts = con.execute(f"SELECT count(*) FROM '{pattern}' WHERE timestamp IS NULL").fetchone()[0]
assert null_ts == 0
bad_extra = con.execute(f"SELECT count(*) FROM '{pattern}' WHERE timestamp_extra_ns > 999").fetchone()[0]
assert bad_extra == 0, f"{bad_extra} rows with timestamp_extra_ns > 999"
# The nanosecond timestamps, as DuckDB and pyarrow rebuild them, agree row for row (sum and bounds).
ns_duck = con.execute(
    f"SELECT sum(epoch_us(timestamp)::HUGEINT * 1000 + timestamp_extra_ns)::VARCHAR, "
    f"min(epoch_us(timestamp) * 1000 + timestamp_extra_ns), max(epoch_us(timestamp) * 1000 + timestamp_extra_ns) "
    f"FROM '{pattern}'"
).fetchone()
ns_pa = [
    us * 1000 + extra
    for path in files
    for us, extra in zip(
        pq.read_table(path).column("timestamp").cast(pa.int64()).to_pylist(),
        pq.read_table(path).column("timestamp_extra_ns").to_pylist(),
    )
]
assert (int(ns_duck[0]), ns_duck[1], ns_duck[2]) == (sum(ns_pa), min(ns_pa), max(ns_pa)), (ns_duck, sum(ns_pa))

assert rows_pa == rows_duck, (rows_pa, rows_duck)
assert levels_pa == levels_duck, (levels_pa, levels_duck)
if expect:
    want = json.loads(expect)
    assert rows_duck == want["rows"], (rows_duck, want["rows"])
    want_levels = {k: v for k, v in want["levels"].items() if v}
    assert levels_duck == want_levels, (levels_duck, want_levels)
print(f"parquet readers OK: {len(files)} files, {rows_duck} rows, levels {dict(sorted(levels_duck.items()))}, "
      f"pyarrow {pa.__version__}, duckdb {duckdb.__version__} (timestamp -> {types['timestamp']})")
PY
