//! The upload stage against a real S3 API server (moto's, on loopback), for the faults only a
//! server shows: an unknown bucket and wrong credentials. Each must give a clear error naming
//! the bucket and the endpoint (never the secret), logging goes on, and the files wait in the
//! spool with every record in them.
//!
//! These need the server, so they are `#[ignore]`d here; `.ci/checks/fleet.sh` starts two moto
//! servers (one checking credentials) and runs them with `--ignored`, passing the endpoints in
//! `ASYNCLOG_S3_ENDPOINT` and `ASYNCLOG_S3_AUTH_ENDPOINT` (a bucket `asynclog-fleet` exists on
//! the first).
#![cfg(feature = "object-store")]

#[path = "parquet_common/mod.rs"]
mod common;

use asynclog::sinks::parquet::upload::object_store::aws::AmazonS3Builder;
use asynclog::sinks::parquet::upload::UploadConfig;
use asynclog::{Config, Logger, ParquetSinkConfig, UploadStats};
use std::path::Path;
use std::time::{Duration, Instant};

const SECRET: &str = "asynclog-test-secret-9f8e7d";

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is set by .ci/checks/fleet.sh"))
}

fn upload(endpoint: &str, bucket: &str) -> UploadConfig {
    let builder = AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("AKIAASYNCLOGTEST")
        .with_secret_access_key(SECRET);
    UploadConfig::s3_from(builder)
        .unwrap()
        .with_host("h1")
        .with_retry(Duration::from_millis(50), Duration::from_millis(500))
        .with_close_wait(Duration::from_millis(500))
}

/// Logs 15,000 records in two rounds with the store refusing every upload; returns the upload
/// stats seen while it refused, after checking that logging went on and every record waits in
/// the spool.
fn log_while_refused(dir: &Path, upload: UploadConfig) -> UploadStats {
    let spool = dir.join("spool");
    let sink = ParquetSinkConfig::new(spool.join("app"))
        .with_name("s3")
        .with_max_bytes(24 * 1024)
        .with_upload(upload)
        .build()
        .unwrap();
    // Batches of 1,000 records: size rotation ends files only between batches, and a batch of
    // the default 8,192 can hold most of the first round.
    let config = Config::default()
        .with_max_batch_records(1_000)
        .with_sink(sink);
    let logger = Logger::new(config).unwrap();
    for seq in 0..10_000u64 {
        asynclog::info!(logger, "order filled", seq = seq);
    }
    logger.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let stats = loop {
        let stats = logger.stats().sink("s3").unwrap().upload.clone().unwrap();
        if stats.failed_attempts >= 2 && stats.spool_files >= 2 {
            break stats;
        }
        assert!(Instant::now() < deadline, "no failed attempts: {stats:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Logging goes on, and flushes succeed: the spool takes the files.
    for seq in 10_000..15_000u64 {
        asynclog::info!(logger, "order filled", seq = seq);
    }
    logger.flush().unwrap();
    logger.close().unwrap();
    let after = logger.stats().sink("s3").unwrap().upload.clone().unwrap();
    assert_eq!(after.uploaded_files, 0);
    let mut seqs: Vec<u64> = common::read_all(&spool)
        .iter()
        .map(|r| common::seq_of(r).unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..15_000).collect::<Vec<_>>(), "every record waits");
    stats
}

fn assert_clear(error: &str, bucket: &str, endpoint: &str) {
    eprintln!("the error reported: {error}");
    assert!(
        error.contains(&format!("s3://{bucket}")),
        "names the bucket: {error}"
    );
    assert!(error.contains(endpoint), "names the endpoint: {error}");
    assert!(error.contains("spool/app_"), "names the file: {error}");
    assert!(!error.contains(SECRET), "leaks the secret: {error}");
}

#[test]
#[ignore = "needs an S3 server: run by .ci/checks/fleet.sh"]
fn an_unknown_bucket_is_named_and_the_files_wait() {
    let endpoint = endpoint("ASYNCLOG_S3_ENDPOINT");
    let dir = tempfile::tempdir().unwrap();
    let stats = log_while_refused(dir.path(), upload(&endpoint, "no-such-bucket"));
    let error = stats.last_error.unwrap();
    assert_clear(&error, "no-such-bucket", &endpoint);
    assert!(
        error.contains("NoSuchBucket") || error.contains("404"),
        "{error}"
    );
}

#[test]
#[ignore = "needs an S3 server: run by .ci/checks/fleet.sh"]
fn wrong_credentials_are_named_and_the_files_wait() {
    let endpoint = endpoint("ASYNCLOG_S3_AUTH_ENDPOINT");
    let dir = tempfile::tempdir().unwrap();
    let stats = log_while_refused(dir.path(), upload(&endpoint, "asynclog-fleet"));
    let error = stats.last_error.unwrap();
    assert_clear(&error, "asynclog-fleet", &endpoint);
    assert!(
        error.contains("InvalidAccessKeyId") || error.contains("403"),
        "{error}"
    );
}
