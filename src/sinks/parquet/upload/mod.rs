//! The upload stage (feature `object-store`): every Parquet file the sink finishes is put into an
//! object store under a Hive-partitioned key, so DuckDB, DataFusion, Spark, Trino or ClickHouse
//! read a whole fleet's logs as one dataset.
//!
//! # Layout
//!
//! ```text
//! {prefix}/{key=value/...}dt=YYYY-MM-DD/hour=HH/host=HOST/{file name}.parquet
//! ```
//!
//! - `prefix`: [`UploadConfig::prefix`] (may be empty: the bucket's root).
//! - `key=value/...`: the [`UploadConfig::partitions`] in order, for example `service=matching`.
//! - `dt`, `hour`: the UTC date and hour the file was **opened** (its name's stamp). With
//!   [`Rotation::HOURLY`](crate::sinks::Rotation::HOURLY) or a shorter period, every record of a
//!   file is in the file's hour, except a record logged in the last moments of an hour that the
//!   drain wrote after the file had turned: it sits in the next hour's partition.
//! - `host`: [`UploadConfig::host`], by default this machine's host name.
//! - the file name: the local one, `{path prefix}_{YYYYMMDD_HHMMSS}_{NNN}.parquet`. Names never
//!   repeat within one spool (the stage leaves a `.parquet.uploaded` marker for the newest file it
//!   sent, so a restarted process keeps counting after it). Give each spool on a host its own
//!   `path` prefix or its own partition.
//!
//! # Nothing lost, nothing partial, nothing twice
//!
//! - The **spool** is the sink's own directory: a finished file waits there until the store
//!   confirms it, and only then is deleted. The journal covers the open file as before.
//! - An object appears complete or not at all: one `PUT` up to
//!   [`UploadConfig::multipart_threshold`], a completed multipart upload above it.
//! - The key depends only on the file, so a retried upload (after a timeout whose `PUT` did
//!   land, or a crash between the `PUT` and the delete) overwrites the same object.
//! - Uploads run on a thread of the stage's own (`asynclog-upload`), never on the drain or the
//!   sink's worker; the log call does not see the store at all.
//! - A failed upload is retried after an exponential back-off with jitter
//!   ([`UploadConfig::retry_initial`] doubling up to [`UploadConfig::retry_max`]), as long as
//!   the process runs; files left by a crash, an outage or a close that could not wait
//!   ([`UploadConfig::close_wait`]) are sent by the next sink that opens the same spool.
//! - The spool is bounded by [`UploadConfig::spool_limit`]; what happens when it fills is
//!   [`UploadConfig::when_spool_full`] ([`SpoolFull`]), reported by [`UploadEvent::SpoolFull`]
//!   and counted in [`UploadStats`](crate::UploadStats).
//!
//! # Telemetry
//!
//! [`Stats::sinks`](crate::Stats::sinks)`[i].upload` ([`UploadStats`](crate::UploadStats)):
//! uploads, bytes, failed attempts, spool files and bytes, the age of the oldest waiting file,
//! refused and evicted data, the last error. [`UploadConfig::on_event`] is told of every upload,
//! failed attempt, eviction and full spool, on the upload thread.
//!
//! # Credentials
//!
//! [`UploadConfig::s3`] reads the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`, ...);
//! [`UploadConfig::s3_from`] takes an [`AmazonS3Builder`](object_store::aws::AmazonS3Builder)
//! configured by hand; [`UploadConfig::new`] any [`ObjectStore`] (GCS, Azure, a local
//! directory). Errors name the bucket (or store) and the endpoint, never a secret: the secret key
//! and session token are cut out of every message the stage reports.
//!
//! ```no_run
//! use asynclog::sinks::parquet::upload::UploadConfig;
//! use asynclog::sinks::Rotation;
//! use asynclog::{Config, Logger, ParquetSinkConfig};
//!
//! // AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
//! let upload = UploadConfig::s3("logs")?
//!     .with_prefix("asynclog")
//!     .with_partition("service", "matching");
//! let sink = ParquetSinkConfig::new("spool/matching")
//!     .with_rotation(Rotation::HOURLY)
//!     .with_max_bytes(64 << 20)
//!     .with_upload(upload)
//!     .build()?;
//! let logger = Logger::new(Config::default().with_sink(sink))?;
//! asynclog::info!(logger, "order filled", order_id = 42u64);
//! logger.close()?; // finishes the file and waits up to `close_wait` for its upload
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod uploader;

pub use object_store;
pub(crate) use uploader::Uploader;

use crate::error::Error;
use object_store::ObjectStore;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Default [`UploadConfig::spool_limit`]: 1 GiB.
pub const DEFAULT_SPOOL_LIMIT: u64 = 1 << 30;
/// Default [`UploadConfig::retry_initial`].
pub const DEFAULT_RETRY_INITIAL: Duration = Duration::from_millis(200);
/// Default [`UploadConfig::retry_max`].
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(30);
/// Default [`UploadConfig::close_wait`]: under the logger's default `close_timeout` (10 s).
pub const DEFAULT_CLOSE_WAIT: Duration = Duration::from_secs(5);
/// Default [`UploadConfig::multipart_threshold`]: 32 MiB.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 32 << 20;
/// Part size of a multipart upload (S3's minimum is 5 MiB).
const PART_BYTES: usize = 8 << 20;

/// What the sink does when the spool holds [`UploadConfig::spool_limit`] bytes of files waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SpoolFull {
    /// Keep what is waiting and refuse new batches: each fails at once with
    /// [`SinkError::SpoolFull`](crate::SinkError::SpoolFull) (no retries, so the drain is not
    /// held up), counted in `failed_records` and `UploadStats::refused_records`, until uploads
    /// make room. What was already logged is never lost. The default.
    #[default]
    RefuseNew,
    /// Delete the oldest waiting files, unsent, until the spool is under its limit again or
    /// only the newest file is left (which is never deleted): the newest logs win. Counted in
    /// `UploadStats::evicted_files`/`evicted_bytes`.
    DeleteOldest,
}

/// What the upload thread reports to [`UploadConfig::on_event`].
#[derive(Debug)]
#[non_exhaustive]
pub enum UploadEvent<'a> {
    /// The store confirmed `file` as `key`; the local file is deleted.
    Uploaded {
        /// The local file (deleted by now).
        file: &'a Path,
        /// The object key.
        key: &'a str,
        /// The file's size.
        bytes: u64,
        /// How long the upload took.
        took: Duration,
        /// How long the file waited in the spool, from its finish to the store's confirmation.
        waited: Duration,
    },
    /// An attempt failed; the file stays in the spool and is tried again after `retry_in`.
    Failed {
        /// The local file.
        file: &'a Path,
        /// The object key.
        key: &'a str,
        /// What went wrong: names the store (bucket and endpoint), never a secret.
        error: &'a str,
        /// Failed attempts in a row (any file).
        attempt: u32,
        /// The back-off before the next attempt.
        retry_in: Duration,
    },
    /// The spool reached its limit (reported once each time it fills).
    SpoolFull {
        /// Bytes waiting.
        spool_bytes: u64,
        /// The limit.
        limit: u64,
        /// What the sink does now.
        policy: SpoolFull,
    },
    /// A waiting file was deleted unsent to make room ([`SpoolFull::DeleteOldest`]).
    Evicted {
        /// The local file (deleted).
        file: &'a Path,
        /// Its size.
        bytes: u64,
    },
    /// The sink closed with files still waiting (the store did not take them within
    /// [`UploadConfig::close_wait`]); the next sink on the same spool sends them.
    LeftInSpool {
        /// Files waiting.
        files: u64,
        /// Their bytes.
        bytes: u64,
    },
}

/// `(sink name, event)`, called on the upload thread. A panic in it is caught and ignored.
pub type UploadHook = Arc<dyn Fn(&str, &UploadEvent<'_>) + Send + Sync>;

/// Where and how a Parquet sink uploads its finished files: see the [module docs](self).
#[derive(Clone)]
#[non_exhaustive]
pub struct UploadConfig {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// How errors and events name the store, for example `s3://logs at http://127.0.0.1:9000`.
    /// Never holds a secret.
    pub destination: String,
    /// Key prefix, without leading or trailing `/`; empty: the bucket's root. Default empty.
    pub prefix: String,
    /// Partitions before `dt=`, in order, as `key=value` path segments. Default none.
    pub partitions: Vec<(String, String)>,
    /// The `host=` partition. Default: this machine's host name.
    pub host: String,
    /// Bytes of finished files that may wait in the spool. Default [`DEFAULT_SPOOL_LIMIT`].
    /// Checked before every batch (and by the upload thread after every file it finishes
    /// waiting for), so the spool can pass it by one file (`max_bytes`).
    pub spool_limit: u64,
    /// What happens when the spool is full. Default [`SpoolFull::RefuseNew`].
    pub when_spool_full: SpoolFull,
    /// The first back-off after a failed attempt; it doubles (with jitter: a random 50-100% of
    /// it is waited) up to [`retry_max`](Self::retry_max). Default [`DEFAULT_RETRY_INITIAL`].
    pub retry_initial: Duration,
    /// The longest back-off. Default [`DEFAULT_RETRY_MAX`].
    pub retry_max: Duration,
    /// How long the sink's `close` waits for the spool to empty before leaving the rest for the
    /// next process (`Duration::MAX`: until it is empty). Keep it under the logger's
    /// `close_timeout`. Default [`DEFAULT_CLOSE_WAIT`].
    pub close_wait: Duration,
    /// Files larger than this go up as multipart uploads (8 MiB parts). Default
    /// [`DEFAULT_MULTIPART_THRESHOLD`].
    pub multipart_threshold: u64,
    /// Told of every upload, failed attempt, eviction and full spool. Default none.
    pub on_event: Option<UploadHook>,
    /// Strings cut out of every reported error (the secret key, the session token).
    pub(crate) secrets: Vec<String>,
}

impl fmt::Debug for UploadConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadConfig")
            .field("destination", &self.destination)
            .field("prefix", &self.prefix)
            .field("partitions", &self.partitions)
            .field("host", &self.host)
            .field("spool_limit", &self.spool_limit)
            .field("when_spool_full", &self.when_spool_full)
            .field("retry_initial", &self.retry_initial)
            .field("retry_max", &self.retry_max)
            .field("close_wait", &self.close_wait)
            .field("multipart_threshold", &self.multipart_threshold)
            .field("on_event", &self.on_event.is_some())
            .finish_non_exhaustive()
    }
}

impl UploadConfig {
    /// Uploads into `store`, named `destination` in errors and events (say `gs://bucket`).
    /// The host name is read now; if it cannot be, `host` is `unknown-host` (set it with
    /// [`with_host`](Self::with_host)).
    pub fn new(store: Arc<dyn ObjectStore>, destination: impl Into<String>) -> UploadConfig {
        UploadConfig {
            store,
            destination: destination.into(),
            prefix: String::new(),
            partitions: Vec::new(),
            host: crate::os::hostname().unwrap_or_else(|_| "unknown-host".to_owned()),
            spool_limit: DEFAULT_SPOOL_LIMIT,
            when_spool_full: SpoolFull::default(),
            retry_initial: DEFAULT_RETRY_INITIAL,
            retry_max: DEFAULT_RETRY_MAX,
            close_wait: DEFAULT_CLOSE_WAIT,
            multipart_threshold: DEFAULT_MULTIPART_THRESHOLD,
            on_event: None,
            secrets: Vec::new(),
        }
    }

    /// Uploads into the S3 (or S3-compatible) bucket `bucket`, with the endpoint, region and
    /// credentials of the `AWS_*` environment variables.
    ///
    /// # Errors
    /// As [`s3_from`](Self::s3_from).
    pub fn s3(bucket: &str) -> Result<UploadConfig, Error> {
        UploadConfig::s3_from(
            object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket),
        )
    }

    /// Uploads with an S3 client configured by hand. An `http://` endpoint is allowed as given.
    /// The client's own retries are turned off: the stage retries with its back-off, and counts
    /// and reports every attempt.
    ///
    /// # Errors
    /// [`Error::Config`] (field `upload`) naming the bucket and endpoint when the client cannot
    /// be built (no bucket, a malformed endpoint).
    pub fn s3_from(builder: object_store::aws::AmazonS3Builder) -> Result<UploadConfig, Error> {
        use object_store::aws::AmazonS3ConfigKey as Key;
        let value = |key| builder.get_config_value(&key);
        let bucket = value(Key::Bucket).unwrap_or_default();
        let destination = match value(Key::Endpoint) {
            Some(endpoint) => format!("s3://{bucket} at {endpoint}"),
            None => format!(
                "s3://{bucket} (AWS, region {})",
                value(Key::Region).unwrap_or_else(|| "us-east-1".to_owned())
            ),
        };
        let secrets: Vec<String> = [value(Key::SecretAccessKey), value(Key::Token)]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        let http = value(Key::Endpoint).is_some_and(|e| e.starts_with("http://"));
        let mut builder = builder.with_retry(object_store::RetryConfig {
            max_retries: 0,
            ..Default::default()
        });
        if http {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(|e| Error::Config {
            field: "upload",
            reason: format!(
                "building the S3 client for {destination}: {}",
                redact(&e.to_string(), &secrets)
            ),
        })?;
        let mut config = UploadConfig::new(Arc::new(store), destination);
        config.secrets = secrets;
        Ok(config)
    }

    /// Sets [`prefix`](Self::prefix).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Adds a partition before `dt=` ([`partitions`](Self::partitions)).
    #[must_use]
    pub fn with_partition(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.partitions.push((key.into(), value.into()));
        self
    }

    /// Sets [`host`](Self::host).
    #[must_use]
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Sets [`spool_limit`](Self::spool_limit).
    #[must_use]
    pub fn with_spool_limit(mut self, bytes: u64) -> Self {
        self.spool_limit = bytes;
        self
    }

    /// Sets [`when_spool_full`](Self::when_spool_full).
    #[must_use]
    pub fn with_when_spool_full(mut self, policy: SpoolFull) -> Self {
        self.when_spool_full = policy;
        self
    }

    /// Sets [`retry_initial`](Self::retry_initial) and [`retry_max`](Self::retry_max).
    #[must_use]
    pub fn with_retry(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial;
        self.retry_max = max;
        self
    }

    /// Sets [`close_wait`](Self::close_wait).
    #[must_use]
    pub fn with_close_wait(mut self, close_wait: Duration) -> Self {
        self.close_wait = close_wait;
        self
    }

    /// Sets [`multipart_threshold`](Self::multipart_threshold).
    #[must_use]
    pub fn with_multipart_threshold(mut self, bytes: u64) -> Self {
        self.multipart_threshold = bytes;
        self
    }

    /// Sets [`on_event`](Self::on_event).
    #[must_use]
    pub fn with_on_event(
        mut self,
        on_event: impl Fn(&str, &UploadEvent<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_event = Some(Arc::new(on_event));
        self
    }

    /// Checks the key parts: each must be a valid, non-empty path segment without `=` (Hive
    /// reads `a=b=c` as key `a`). `bad(field, reason)` builds the error.
    pub(crate) fn validate(
        &self,
        bad: impl Fn(&'static str, String) -> Error,
    ) -> Result<(), Error> {
        let segment = |what: &str, s: &str| -> Result<(), String> {
            if s.is_empty() {
                return Err(format!("{what} is empty"));
            }
            if let Some(c) = s
                .chars()
                .find(|c| matches!(c, '/' | '=' | '\\' | '*' | '?') || c.is_control())
            {
                return Err(format!("{what} `{s}` holds {c:?}"));
            }
            if s == "." || s == ".." {
                return Err(format!("{what} `{s}` is not a path segment"));
            }
            Ok(())
        };
        segment("the host", &self.host).map_err(|r| bad("upload.host", r))?;
        for (key, value) in &self.partitions {
            segment("a partition key", key).map_err(|r| bad("upload.partitions", r))?;
            segment("a partition value", value).map_err(|r| bad("upload.partitions", r))?;
            if matches!(key.as_str(), "dt" | "hour" | "host") {
                return Err(bad(
                    "upload.partitions",
                    format!("`{key}` is one of the stage's own partitions (dt, hour, host)"),
                ));
            }
        }
        for part in self.prefix.split('/').filter(|p| !p.is_empty()) {
            object_store::path::PathPart::parse(part)
                .map_err(|e| bad("upload.prefix", format!("`{}`: {e}", self.prefix)))?;
        }
        if self.spool_limit == 0 {
            return Err(bad("upload.spool_limit", "must be at least 1".into()));
        }
        if self.retry_initial.is_zero() || self.retry_max < self.retry_initial {
            return Err(bad(
                "upload.retry_initial",
                format!(
                    "the back-off must be above zero and at most retry_max ({:?} .. {:?})",
                    self.retry_initial, self.retry_max
                ),
            ));
        }
        Ok(())
    }

    /// The object key of a file opened at `opened_secs` (UTC) called `file_name`.
    pub(crate) fn key(&self, opened_secs: i64, file_name: &str) -> String {
        let (y, m, d) = crate::sinks::format::civil_from_days(opened_secs.div_euclid(86_400));
        let hour = opened_secs.rem_euclid(86_400) / 3600;
        let mut key = String::new();
        for part in self.prefix.split('/').filter(|p| !p.is_empty()) {
            key.push_str(part);
            key.push('/');
        }
        for (k, v) in &self.partitions {
            key.push_str(&format!("{k}={v}/"));
        }
        key.push_str(&format!(
            "dt={y:04}-{m:02}-{d:02}/hour={hour:02}/host={}/{file_name}",
            self.host
        ));
        key
    }
}

/// `message` with every secret replaced by `***`.
pub(crate) fn redact(message: &str, secrets: &[String]) -> String {
    let mut message = message.to_owned();
    for secret in secrets {
        message = message.replace(secret.as_str(), "***");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> UploadConfig {
        let store = Arc::new(object_store::memory::InMemory::new());
        UploadConfig::new(store, "memory").with_host("h1")
    }

    #[test]
    fn keys_are_hive_partitioned_by_the_hour_the_file_was_opened() {
        // 2026-11-27 12:34:56 UTC
        let secs = 1_795_780_800 + 34 * 60 + 56;
        let c = config().with_prefix("/logs/app/");
        assert_eq!(
            c.key(secs, "a_20261127_123456_000.parquet"),
            "logs/app/dt=2026-11-27/hour=12/host=h1/a_20261127_123456_000.parquet"
        );
        let c = config().with_partition("service", "matching");
        assert_eq!(
            c.key(secs - 13 * 3600, "x.parquet"),
            "service=matching/dt=2026-11-26/hour=23/host=h1/x.parquet"
        );
    }

    #[test]
    fn validation_names_the_field_and_the_culprit() {
        let bad = |field: &'static str, reason: String| Error::Config { field, reason };
        let err = |c: UploadConfig| c.validate(bad).unwrap_err().to_string();
        assert!(err(config().with_host("a/b")).contains("upload.host"));
        assert!(err(config().with_host("")).contains("host is empty"));
        let e = err(config().with_partition("service", "x=y"));
        assert!(e.contains("upload.partitions") && e.contains("x=y"), "{e}");
        assert!(err(config().with_partition("dt", "x")).contains("own partitions"));
        assert!(err(config().with_spool_limit(0)).contains("upload.spool_limit"));
        assert!(config().validate(bad).is_ok());
    }

    #[test]
    fn secrets_are_cut_out_of_messages() {
        let secrets = vec!["s3cr3t".to_owned()];
        assert_eq!(
            redact("key s3cr3t, again s3cr3t", &secrets),
            "key ***, again ***"
        );
    }
}
