"""Reads the fleet example's bucket with DuckDB (over S3) and Spark (from a local copy), and checks
that every record is there exactly once, with the right host, dt and hour partitions, and the
same nanosecond timestamps in both engines.

  fleet_readers.py create-bucket ENDPOINT BUCKET
  fleet_readers.py duckdb ENDPOINT BUCKET PREFIX EXPECT_JSON > duckdb.json
  fleet_readers.py fetch ENDPOINT BUCKET PREFIX DIR
  fleet_readers.py spark DIR EXPECT_JSON DUCKDB_JSON

EXPECT_JSON is the example's `EXPECT` line: {"records": {"host-0": 250000, ...}}. Credentials are
moto's defaults (any key works on the server fleet.sh starts).
"""
import json
import sys

KEY, SECRET, REGION = "test", "test", "us-east-1"
# A record sits in the partition of the hour its file was opened; one logged in the last moments
# before the hour that the drain wrote after the file turned sits in the next hour (documented
# in the upload module). Allowed lag:
LAG_NS = 60 * 10**9


def s3_client(endpoint):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, region_name=REGION)


def check(engine, summary, expect):
    """summary: {"hosts": {host: {...}}, "partitions": [[host, dt, hour, rows, min_ns, max_ns]]}"""
    hosts = summary["hosts"]
    assert sorted(hosts) == sorted(expect), f"{engine}: hosts {sorted(hosts)} != {sorted(expect)}"
    for host, n in expect.items():
        h = hosts[host]
        assert h["rows"] == n, f"{engine}: {host} has {h['rows']} rows, logged {n}"
        assert h["distinct_seq"] == n and h["min_seq"] == 0 and h["max_seq"] == n - 1, \
            f"{engine}: {host} is not seq 0..{n} exactly once: {h}"
        assert h["origin_mismatch"] == 0, f"{engine}: {host} holds another host's records: {h}"
    for host, dt, hour, rows, lo, hi in summary["partitions"]:
        import datetime

        start = datetime.datetime.fromisoformat(dt).replace(
            hour=hour, tzinfo=datetime.timezone.utc)
        start_ns = int(start.timestamp()) * 10**9
        assert start_ns - LAG_NS <= lo and hi < start_ns + 3600 * 10**9, \
            f"{engine}: partition host={host}/dt={dt}/hour={hour} holds records from {lo} to {hi} ns"
    total = sum(h["rows"] for h in hosts.values())
    print(f"fleet: {engine}: {total} records, {len(hosts)} hosts, each seq exactly once, "
          f"partitions {sorted({(p[1], p[2]) for p in summary['partitions']})}", file=sys.stderr)


def duckdb_summary(endpoint, bucket, prefix):
    import pathlib

    import duckdb
    import duckdb_extension_httpfs

    # No extension downloads here: load the one the pinned PyPI package ships.
    package = pathlib.Path(duckdb_extension_httpfs.__file__).parent
    extension = package / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    con = duckdb.connect()
    con.execute(f"LOAD '{extension}'")
    host_port = endpoint.split("://", 1)[1]
    con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{KEY}', SECRET '{SECRET}', REGION '{REGION}', "
                f"ENDPOINT '{host_port}', USE_SSL false, URL_STYLE 'path')")
    rows = f"""
        SELECT host, CAST(dt AS VARCHAR) AS dt, CAST(hour AS INTEGER) AS hour,
               CAST(json_extract(fields_json, '$.seq') AS BIGINT) AS seq,
               json_extract_string(fields_json, '$.origin') AS origin,
               CAST(epoch_us(timestamp) AS HUGEINT) * 1000 + timestamp_extra_ns AS ns
        FROM read_parquet('s3://{bucket}/{prefix}/**/*.parquet', hive_partitioning = true)"""
    hosts = {}
    for host, n, distinct, lo, hi, mismatch, ns_sum in con.execute(f"""
            SELECT host, count(*), count(DISTINCT seq), min(seq), max(seq),
                   count(*) FILTER (WHERE origin <> host), CAST(sum(ns) AS VARCHAR)
            FROM ({rows}) GROUP BY host""").fetchall():
        hosts[host] = dict(rows=n, distinct_seq=distinct, min_seq=lo, max_seq=hi,
                           origin_mismatch=mismatch, ns_sum=ns_sum)
    partitions = [list(r) for r in con.execute(f"""
            SELECT host, dt, hour, count(*), CAST(min(ns) AS BIGINT), CAST(max(ns) AS BIGINT)
            FROM ({rows}) GROUP BY ALL ORDER BY ALL""").fetchall()]
    return dict(hosts=hosts, partitions=partitions, version=duckdb.__version__)


def fetch(endpoint, bucket, prefix, directory):
    import pathlib

    s3 = s3_client(endpoint)
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for obj in page.get("Contents", []):
            path = pathlib.Path(directory) / obj["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(path))
            count += 1
    print(f"fleet: fetched {count} objects for Spark", file=sys.stderr)


def spark_summary(directory):
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (SparkSession.builder.master("local[1]").appName("asynclog-fleet")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(directory)  # Hive partition discovery, no reader setting
    df = df.select(
        "host", F.date_format("dt", "yyyy-MM-dd").alias("dt"), F.col("hour").cast("int").alias("hour"),
        F.get_json_object("fields_json", "$.seq").cast("long").alias("seq"),
        F.get_json_object("fields_json", "$.origin").alias("origin"),
        (F.unix_micros("timestamp").cast("decimal(38,0)") * 1000
         + F.col("timestamp_extra_ns")).alias("ns"))
    hosts = {}
    for r in df.groupBy("host").agg(
            F.count("*").alias("n"), F.countDistinct("seq").alias("d"), F.min("seq").alias("lo"),
            F.max("seq").alias("hi"), F.sum((F.col("origin") != F.col("host")).cast("int")).alias("m"),
            F.sum("ns").cast("string").alias("s")).collect():
        hosts[r["host"]] = dict(rows=r["n"], distinct_seq=r["d"], min_seq=r["lo"], max_seq=r["hi"],
                                origin_mismatch=r["m"], ns_sum=r["s"])
    partitions = [[r["host"], r["dt"], r["hour"], r["n"], int(r["lo"]), int(r["hi"])]
                  for r in df.groupBy("host", "dt", "hour").agg(
                      F.count("*").alias("n"), F.min("ns").alias("lo"), F.max("ns").alias("hi"))
                  .orderBy("host", "dt", "hour").collect()]
    version = spark.version
    spark.stop()
    return dict(hosts=hosts, partitions=partitions, version=version)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "create-bucket":
        endpoint, bucket = args
        s3_client(endpoint).create_bucket(Bucket=bucket)
    elif command == "duckdb":
        endpoint, bucket, prefix, expect = args
        summary = duckdb_summary(endpoint, bucket, prefix)
        check(f"DuckDB {summary['version']} over S3", summary, json.loads(expect)["records"])
        print(json.dumps(summary))
    elif command == "fetch":
        fetch(*args)
    elif command == "spark":
        directory, expect, duck_file = args
        summary = spark_summary(directory)
        check(f"Spark {summary['version']}", summary, json.loads(expect)["records"])
        duck = json.load(open(duck_file))
        for host, h in summary["hosts"].items():
            assert h["ns_sum"] == duck["hosts"][host]["ns_sum"], \
                f"{host}: Spark's nanosecond timestamps differ from DuckDB's: {h} vs {duck['hosts'][host]}"
        assert summary["partitions"] == duck["partitions"], \
            f"partitions differ:\nSpark  {summary['partitions']}\nDuckDB {duck['partitions']}"
        print("fleet: Spark and DuckDB agree on every host's nanosecond timestamps and on every "
              "partition's rows", file=sys.stderr)
    else:
        sys.exit(f"unknown command {command}")


main()
