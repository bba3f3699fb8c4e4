#!/usr/bin/env bash
# Apache Spark (PyPI pyspark, local mode, Java 17 from the machine) opens the Parquet sink's
# default files with no reader setting, and rebuilds the same nanosecond timestamps as DuckDB:
# unix_micros(timestamp) * 1000 + timestamp_extra_ns. Row and level counts are checked against
# what examples/parquet_demo logged. The reader version is pinned in lib/ci_venv.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v java >/dev/null || { echo "parquet_spark: java is required (Spark runs on the JVM)" >&2; exit 1; }
source .ci/checks/lib/ci_venv.sh

dir="$target/parquet-spark"
rm -rf "$dir"
expect="$(cargo run --quiet --all-features --example parquet_demo -- "$dir" 50000 | sed -n 's/^EXPECT //p')"

"$venv/bin/python" - "$dir" "$expect" <<'PY'
import json, sys
import duckdb
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

directory, expect = sys.argv[1], json.loads(sys.argv[2])
spark = (SparkSession.builder.master("local[1]").appName("asynclog-ci")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(directory)  # no reader setting
types = dict(df.dtypes)
assert types["timestamp"] == "timestamp" and types["timestamp_extra_ns"] == "int", types
rows = df.count()
levels = {r["level"]: r["count"] for r in df.groupBy("level").count().collect()}
ns = F.unix_micros("timestamp").cast("decimal(38,0)") * 1000 + F.col("timestamp_extra_ns")
spark_ns = df.agg(F.sum(ns).cast("string").alias("s"), F.min(ns).alias("lo"), F.max(ns).alias("hi")).first()
spark.stop()

duck = duckdb.connect().execute(
    "SELECT sum(epoch_us(timestamp)::HUGEINT * 1000 + timestamp_extra_ns)::VARCHAR, "
    "min(epoch_us(timestamp) * 1000 + timestamp_extra_ns), max(epoch_us(timestamp) * 1000 + timestamp_extra_ns) "
    f"FROM '{directory}/*.parquet'"
).fetchone()

assert rows == expect["rows"], (rows, expect["rows"])
want_levels = {k: v for k, v in expect["levels"].items() if v}
assert levels == want_levels, (levels, want_levels)
got = (int(spark_ns["s"]), int(spark_ns["lo"]), int(spark_ns["hi"]))
assert got == (int(duck[0]), duck[1], duck[2]), (got, duck)
print(f"parquet spark OK: {rows} rows, levels {dict(sorted(levels.items()))}, "
      f"nanosecond timestamps equal to DuckDB's (sum {got[0]}), pyspark {spark.version}")
PY
