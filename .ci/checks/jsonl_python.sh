#!/usr/bin/env bash
# The file sink's JSON lines, checked by a reader we did not write: Python's json module, strict.
# Rejects the NaN/Infinity literals Python would otherwise accept, duplicate keys, invalid UTF-8,
# and anything but one object per line; then checks the sentinel record's exact values.
# Needs only python3 and its standard library.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || { echo "jsonl_python: python3 is required" >&2; exit 1; }

records=100000
out="${CARGO_TARGET_DIR:-target}/ci-jsonl-python"
mkdir -p "$out"
cargo run --quiet --all-features --example write_nasty_jsonl -- "$out/nasty.jsonl" "$records"

python3 - "$out/nasty.jsonl" "$((records + 1))" <<'PY'
import json, math, re, sys

path, expected = sys.argv[1], int(sys.argv[2])

def no_constants(name):
    raise ValueError(f"non-JSON constant {name}")

def unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys: {keys}")
    return dict(pairs)

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z\Z")
LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
NON_FINITE = {"NaN", "Infinity", "-Infinity"}

def check_scalar(v, where):
    if isinstance(v, dict):
        assert list(v) == ["$f64"] and v["$f64"] in NON_FINITE, f"{where}: object value {v!r}"
    else:
        assert v is None or isinstance(v, (bool, int, float, str)), f"{where}: {v!r}"

with open(path, "rb") as f:
    data = f.read()
assert data.endswith(b"\n"), "the file ends with a complete line"
lines = data.split(b"\n")[:-1]
assert len(lines) == expected, f"{len(lines)} lines, expected {expected}"
for number, raw in enumerate(lines, 1):
    where = f"line {number}"
    text = raw.decode("utf-8")  # strict: invalid UTF-8 raises
    obj = json.loads(text, parse_constant=no_constants, object_pairs_hook=unique_keys)
    assert isinstance(obj, dict), where
    keys = list(obj)
    assert keys[:4] == ["timestamp", "level", "message", "thread_id"], f"{where}: {keys}"
    assert keys[4:] in ([], ["fields"]), f"{where}: {keys}"
    assert TIMESTAMP.match(obj["timestamp"]), f"{where}: {obj['timestamp']!r}"
    assert obj["level"] in LEVELS, where
    assert isinstance(obj["message"], str), where
    assert isinstance(obj["thread_id"], int) and obj["thread_id"] >= 0, where
    fields = obj.get("fields")
    if fields is not None:
        assert isinstance(fields, dict) and fields, f"{where}: empty or non-object fields"
        for key, value in fields.items():
            for v in value if isinstance(value, list) else [value]:
                check_scalar(v, f"{where} field {key!r}")

first = json.loads(lines[0], parse_constant=no_constants, object_pairs_hook=unique_keys)
f = first["fields"]
assert first["level"] == "ERROR"
assert first["message"] == "".join(map(chr, range(32)))
assert f["seq"] == 0
assert f["u64_max"] == 18446744073709551615
assert f["above_2_53"] == 9007199254740993
assert f["i64_min"] == -9223372036854775808
assert f["nan"] == {"$f64": "NaN"}
assert f["inf"] == {"$f64": "Infinity"} and f["ninf"] == {"$f64": "-Infinity"}
assert f["neg_zero"] == 0.0 and math.copysign(1.0, f["neg_zero"]) < 0
assert f["tenth"] == 0.1 and f["big"] == 1e21 and f["tiny"] == 5e-324
assert f["dup"] == [1, 2]
assert f["message"] == "nested, not the message"
assert f["emoji"] == "\U0001F600\U0010FFFF" and f["quote"] == "\"\\/"
assert f["empty"] == "" and f["none"] is None
print(f"jsonl_python: {len(lines)} lines valid under Python's strict json ({path})")
PY
