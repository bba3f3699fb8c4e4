//! Replays every seed under `fuzz/corpus/<target>/` through the check that the fuzz target of the
//! same name runs, so CI exercises the fuzz targets (and every past finding, kept as a seed)
//! on stable without libFuzzer. See `fuzz/README.md`.

use crate::fuzz_checks;

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// A fuzz target's check: panics when an invariant breaks.
type Check = fn(&[u8]);

/// Every fuzz target, by the name of its `fuzz/fuzz_targets/<name>.rs` and corpus directory.
const TARGETS: &[(&str, Check)] = &[
    ("ring_round_trip", fuzz_checks::ring_round_trip),
    ("json_lines", fuzz_checks::json_lines),
    ("decode_garbage", fuzz_checks::decode_garbage),
    ("parquet_round_trip", PARQUET_ROUND_TRIP),
    ("jsonl_reader", fuzz_checks::jsonl_reader),
];

#[cfg(feature = "parquet")]
const PARQUET_ROUND_TRIP: Check = fuzz_checks::parquet_round_trip;
/// Without the Parquet sink (feature `parquet`) its target is still listed, so the table agrees
/// with the fuzz crate, but its corpus test is not built.
#[cfg(not(feature = "parquet"))]
const PARQUET_ROUND_TRIP: Check = no_parquet;

#[cfg(not(feature = "parquet"))]
fn no_parquet(_: &[u8]) {
    unreachable!("built without the `parquet` feature");
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            (!name.starts_with('.')).then_some(name)
        })
        .collect()
}

/// Runs every corpus file of `target` through `check`, naming each file that fails.
fn replay(target: &str) {
    let (_, check) = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("a registered target");
    let dir = fuzz_dir().join("corpus").join(target);
    let files = names_in(&dir);
    assert!(!files.is_empty(), "{} has no seeds", dir.display());
    let mut failures = Vec::new();
    for name in &files {
        let path = dir.join(name);
        let data =
            std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seeds of `{target}` fail (panic messages above): {failures:#?}",
        failures.len(),
        files.len()
    );
}

#[test]
fn ring_round_trip_corpus() {
    replay("ring_round_trip");
}

#[test]
fn json_lines_corpus() {
    replay("json_lines");
}

#[test]
fn decode_garbage_corpus() {
    replay("decode_garbage");
}

#[test]
#[cfg(feature = "parquet")]
fn parquet_round_trip_corpus() {
    replay("parquet_round_trip");
}

#[test]
fn jsonl_reader_corpus() {
    replay("jsonl_reader");
}

/// The fuzz crate's targets, the corpus directories and `TARGETS` name the same set, so a new
/// target cannot go unreplayed.
#[test]
fn targets_corpora_and_replay_table_agree() {
    let registered: BTreeSet<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    let corpora = names_in(&fuzz_dir().join("corpus"));
    let sources: BTreeSet<String> = names_in(&fuzz_dir().join("fuzz_targets"))
        .into_iter()
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_owned))
        .collect();
    assert_eq!(corpora, registered, "fuzz/corpus/ vs TARGETS");
    assert_eq!(sources, registered, "fuzz/fuzz_targets/ vs TARGETS");
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for name in &registered {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] `{name}`"
        );
    }
}
