#!/usr/bin/env bash
# Many hosts, one bucket, against a real S3 API server (moto's, from PyPI, on 127.0.0.1):
#
# 1. examples/fleet: 4 processes as 4 hosts x 250,000 records upload their Parquet files; DuckDB
#    (PyPI, pinned to the version of duckdb-extension-httpfs, whose extension file it LOADs)
#    reads the bucket over S3 with hive_partitioning, and Spark (PyPI pyspark, local mode) reads
#    a copy fetched with boto3 (Spark's S3 connector is not on the package registries). Both
#    must find every record exactly once (per host: seq 0..250,000, its own `origin`), every
#    partition's records inside its dt/hour, and the same nanosecond timestamps.
#    Then one host whose files go up as multipart uploads, read back by DuckDB the same way.
# 2. An outage, in the background while 1 and 3 run: 2 hosts log over 20 s through a TCP
#    forwarder in front of the server; the forwarder is killed 4 s in (connection refused) and
#    restarted OUTAGE seconds later (ASYNCLOG_FLEET_OUTAGE_SECS, default 60). Every record
#    arrives, once.
# 3. tests/upload_s3.rs (ignored in `cargo test`): an unknown bucket, and wrong credentials
#    against a second server that checks them; each error names bucket and endpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v java >/dev/null || { echo "fleet: java is required (Spark runs on the JVM)" >&2; exit 1; }
source .ci/checks/lib/ci_venv.sh  # Spark
fleet_venv="$target/fleet-venv"
ensure_venv "$fleet_venv" "moto[server]==5.2.6" boto3==1.44.18 duckdb==1.5.5 \
    duckdb-extension-httpfs==1.5.5
py="$fleet_venv/bin/python"
readers=.ci/checks/lib/fleet_readers.py
work="$target/fleet-check"
rm -rf "$work"
mkdir -p "$work"

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_for_port() {
    for _ in $(seq 100); do
        "$py" -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "fleet: nothing listens on port $1" >&2; return 1
}

s3_port="$(free_port)"
"$fleet_venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
pids+=($!)
auth_port="$(free_port)"
INITIAL_NO_AUTH_ACTION_COUNT=0 "$fleet_venv/bin/moto_server" -H 127.0.0.1 -p "$auth_port" \
    >"$work/moto-auth.log" 2>&1 &
pids+=($!)
wait_for_port "$s3_port"
wait_for_port "$auth_port"
endpoint="http://127.0.0.1:$s3_port"
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

# The feature set .ci/run builds and tests with, so nothing is built twice.
features=tracing,log,object-store
cargo build --quiet --example fleet --features "$features"
fleet="$target/debug/examples/fleet"

# The outage runs in the background from the start: most of it is waiting for the endpoint to
# come back, and the other phases fit in that wait.
outage="${ASYNCLOG_FLEET_OUTAGE_SECS:-60}"
proxy_port="$(free_port)"
start_proxy() {
    "$py" .ci/checks/lib/tcp_proxy.py "$proxy_port" "$s3_port" &
    proxy_pid=$!
    wait_for_port "$proxy_port"
}
run_outage() {
    fleet_pid=""
    proxy_pid=""
    trap 'kill $proxy_pid $fleet_pid 2>/dev/null || true' EXIT
    start_proxy
    AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port" "$fleet" --bucket asynclog-outage \
        --prefix outage --hosts 2 --records 100000 --seconds 20 --max-bytes 131072 \
        --dir "$work/outage-spools" --close-wait-secs $((outage + 120)) \
        >"$work/outage.out" 2>"$work/outage.err" &
    fleet_pid=$!
    sleep 4
    kill "$proxy_pid"
    sleep "$outage"
    start_proxy
    wait "$fleet_pid" || { cat "$work/outage.out" "$work/outage.err" >&2; return 1; }
    fleet_pid=""
}
echo "fleet: (in the background) 2 hosts x 100,000 records over 20 s; the endpoint goes away 4 s in, for ${outage} s"
"$py" "$readers" create-bucket "$endpoint" asynclog-outage
run_outage &
outage_pid=$!
pids+=("$outage_pid")

echo "fleet: 4 hosts x 250,000 records into s3://asynclog-fleet at $endpoint"
"$py" "$readers" create-bucket "$endpoint" asynclog-fleet
"$fleet" --bucket asynclog-fleet --prefix fleet --hosts 4 --records 250000 --dir "$work/spools" \
    | tee "$work/fleet.out"
expect="$(sed -n 's/^EXPECT //p' "$work/fleet.out")"
"$py" "$readers" duckdb "$endpoint" asynclog-fleet fleet "$expect" >"$work/duckdb.json"
"$py" "$readers" fetch "$endpoint" asynclog-fleet fleet "$work/copy"
"$venv/bin/python" "$readers" spark "$work/copy/fleet" "$expect" "$work/duckdb.json"

echo "fleet: multipart uploads (files of about 12 MiB, parts of 8 MiB)"
"$py" "$readers" create-bucket "$endpoint" asynclog-multipart
"$fleet" --bucket asynclog-multipart --prefix multipart --hosts 1 --records 1500000 \
    --max-bytes 12582912 --multipart-threshold 1048576 --dir "$work/multipart-spools" \
    | tee "$work/multipart.out"
expect="$(sed -n 's/^EXPECT //p' "$work/multipart.out")"
"$py" "$readers" duckdb "$endpoint" asynclog-multipart multipart "$expect" >/dev/null

echo "fleet: an unknown bucket and wrong credentials (tests/upload_s3.rs)"
ASYNCLOG_S3_ENDPOINT="$endpoint" ASYNCLOG_S3_AUTH_ENDPOINT="http://127.0.0.1:$auth_port" \
    cargo test --quiet --features "$features" --test upload_s3 -- --ignored
echo "fleet: waiting for the outage run"
wait "$outage_pid" || { echo "fleet: the outage run failed" >&2; exit 1; }
cat "$work/outage.out"
grep -q '"failed_attempts":[1-9]' "$work/outage.out" \
    || { echo "fleet: no upload failed during the outage" >&2; exit 1; }
expect="$(sed -n 's/^EXPECT //p' "$work/outage.out")"
"$py" "$readers" duckdb "$endpoint" asynclog-outage outage "$expect" >/dev/null

echo "fleet: passed"
