#!/usr/bin/env bash
# Runs the quickstart (the README's main job) and checks what it prints and writes: every record
# on stdout, the hook lines on stderr, and its Parquet output read back by pyarrow and DuckDB.
# Uses the dev profile that `cargo test --all-features` just built; the README runs it with
# --release.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf logs
out="$(mktemp)"; err="$(mktemp)"
cargo run --quiet --all-features --example quickstart >"$out" 2>"$err"
records=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) ' "$out")
[ "$records" -eq 10 ] || { echo "quickstart printed $records records, expected 10"; cat "$out"; exit 1; }
grep -q 'INFO Hello, AsyncLog! version=1.0.0 user_id=12345' "$out"
grep -q 'FATAL Fatal message key=value' "$out"
grep -q '^\[hook\] batch written: sink=console:stdout' "$err"
grep -q '^\[hook\] batch written: sink=parquet' "$err"
grep -q '^\[hook\] flush completed: records=10' "$err"
grep -q '^\[stats\] buffered=10 dropped=0 delivered=10' "$err"
ls logs/app_data_*.parquet >/dev/null
echo "quickstart: 10 records on stdout, hook lines on stderr, Parquet in logs/"
readers="$(bash .ci/checks/parquet_readers.sh logs)"
echo "$readers"
echo "$readers" | grep -qF "10 rows, levels {'DEBUG': 1, 'ERROR': 1, 'FATAL': 1, 'INFO': 6, 'WARN': 1}" \
    || { echo "the quickstart's Parquet output does not hold the records it logged"; exit 1; }
