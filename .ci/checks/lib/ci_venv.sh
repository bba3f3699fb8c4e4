# Sourced by the reader checks: makes sure the shared venv `$target/ci-venv` holds the pinned
# readers (pyarrow, DuckDB, Spark), installing them in one go when one is missing. Reader
# versions are pinned: a reader's type mapping is part of what the checks check, so a new version
# is a deliberate change here. Sets `venv`.
target="${CARGO_TARGET_DIR:-target}"
venv="$target/ci-venv"
ci_readers=(pyarrow==26.0.1 duckdb==2.0.1 pyspark==4.3.0)
ci_frozen="$("$venv/bin/python" -m pip freeze 2>/dev/null || true)"
for pinned in "${ci_readers[@]}"; do
    if ! grep -qx "$pinned" <<<"$ci_frozen"; then
        python3 -m venv --clear "$venv"  # --clear: rebuilds a venv whose python has gone
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${ci_readers[@]}"
        break
    fi
done
