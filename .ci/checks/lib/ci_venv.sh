# Sourced by the checks that need Python packages. `ensure_venv DIR PACKAGE==VERSION...` makes
# sure the venv DIR holds exactly those pins (names compared as pip normalizes them, extras
# ignored), installing them all in one go when one is missing. Then this sets up the shared
# reader venv `$venv` (`$target/ci-venv`: pyarrow, DuckDB, Spark). Reader versions are pinned: a
# reader's type mapping is part of what the checks check, so a new version is a deliberate
# change here.
target="${CARGO_TARGET_DIR:-target}"

ensure_venv() {
    local dir="$1" frozen pinned wanted
    shift
    frozen="$("$dir/bin/python" -m pip freeze 2>/dev/null | tr 'A-Z-' 'a-z_' || true)"
    for pinned in "$@"; do
        wanted="$(sed 's/\[[^]]*\]//' <<<"$pinned" | tr 'A-Z-' 'a-z_')"
        if ! grep -qx "$wanted" <<<"$frozen"; then
            python3 -m venv --clear "$dir"  # --clear: rebuilds a venv whose python has gone
            "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
            return
        fi
    done
}

venv="$target/ci-venv"
ensure_venv "$venv" pyarrow==26.0.1 duckdb==2.0.1 pyspark==4.3.0
