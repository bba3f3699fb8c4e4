//! The traits users rely on without naming them: a logger shared across threads, errors that go
//! into `Box<dyn Error + Send + Sync>` and `anyhow`, levels read from text, options kept in sets.
//! Most of these checks are compile-time: the module does not build if a type loses one.

use std::error::Error as StdError;

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn shared_types_are_send_and_sync() {
    use asynclog::sinks::file::{FileSinkConfig, JsonlContents, JsonlReader, JsonlRecord};
    use asynclog::{
        Batch, Config, ConsoleSink, Field, FileSink, GlobalGuard, Hooks, Level, LogMessage, Logger,
        NullSink, OwnedValue, Producer, SinkStats, Stats, UploadStats, Value,
    };

    send_sync::<Logger>();
    send_sync::<GlobalGuard>();
    send::<Producer>();
    send::<Config>();
    send_sync::<Hooks>();
    send_sync::<Stats>();
    send_sync::<SinkStats>();
    send_sync::<UploadStats>();
    send_sync::<Batch>();
    send_sync::<Level>();
    send_sync::<Value<'static>>();
    send_sync::<Field<'static>>();
    send_sync::<OwnedValue>();
    send_sync::<LogMessage>();
    send::<ConsoleSink>();
    send::<NullSink>();
    send::<FileSink>();
    send_sync::<FileSinkConfig>();
    send::<JsonlReader>();
    send_sync::<JsonlRecord>();
    send_sync::<JsonlContents>();
    #[cfg(feature = "parquet")]
    {
        send::<asynclog::ParquetSink>();
        send_sync::<asynclog::ParquetSinkConfig>();
    }
    #[cfg(feature = "object-store")]
    send_sync::<asynclog::sinks::parquet::upload::UploadConfig>();
    #[cfg(feature = "tracing")]
    send_sync::<asynclog::tracing::AsyncLogLayer>();
    #[cfg(feature = "log")]
    send_sync::<asynclog::log_compat::AsyncLogLogger>();
}

/// What `anyhow::Error: From<E>` and `Box<dyn Error + Send + Sync>` ask of an error type.
fn thread_safe_error<E: StdError + Send + Sync + 'static>() {}

#[test]
fn errors_are_thread_safe_std_errors() {
    thread_safe_error::<asynclog::Error>();
    thread_safe_error::<asynclog::LogError>();
    thread_safe_error::<asynclog::SinkError>();
    thread_safe_error::<asynclog::PushError>();
    thread_safe_error::<asynclog::EncodeError>();
    thread_safe_error::<asynclog::ParseLevelError>();
}

/// Walks `source()` to the end, as error reporters do.
fn chain(error: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![error.to_string()];
    let mut next = error.source();
    while let Some(e) = next {
        out.push(e.to_string());
        next = e.source();
    }
    out
}

#[test]
fn push_error_reports_its_encode_error_as_source() {
    use asynclog::{Batch, EncodeError, Field, Level, PushError};

    let long_key = "k".repeat(70_000);
    let mut batch = Batch::new();
    let error = batch
        .push(0, Level::Info, 1, "m", &[Field::new(&long_key, 1)])
        .unwrap_err();
    assert_eq!(error, PushError::Encode(EncodeError::KeyTooLong));
    assert!(batch.is_empty());
    let boxed: Box<dyn StdError + Send + Sync> = error.into();
    assert_eq!(
        chain(&*boxed),
        [
            "cannot encode the record's fields",
            "a field key is longer than 65535 bytes",
        ]
    );
}

#[test]
fn error_messages_are_lower_case_without_trailing_period() {
    use asynclog::{EncodeError, Error, LogError, PushError};

    let messages = [
        Error::Closed.to_string(),
        Error::NotInitialized.to_string(),
        Error::AlreadyInitialized.to_string(),
        LogError::Dropped.to_string(),
        LogError::Reentrant.to_string(),
        PushError::Full.to_string(),
        PushError::Malformed.to_string(),
        EncodeError::TooManyFields.to_string(),
        EncodeError::TooLong { size: 1 << 33 }.to_string(),
        "x".parse::<asynclog::Level>().unwrap_err().to_string(),
    ];
    for message in messages {
        let first = message.chars().next().unwrap();
        assert!(!first.is_uppercase(), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
}

#[test]
fn level_parses_from_config_text() {
    use asynclog::Level;

    for level in Level::ALL {
        assert_eq!(level.to_string().parse::<Level>(), Ok(level));
        assert_eq!(level.as_str().to_lowercase().parse::<Level>(), Ok(level));
    }
    assert_eq!("warn".parse::<Level>(), Ok(Level::Warn));
    assert_eq!("Info".parse::<Level>(), Ok(Level::Info));
    let error = "verbose".parse::<Level>().unwrap_err();
    assert_eq!(error.name(), "verbose");
    assert_eq!(
        error.to_string(),
        "unknown level `verbose` (expected trace, debug, info, warn, error or fatal)"
    );
    // As a level read from an environment variable is handled: `?` into a boxed error.
    fn from_text(text: &str) -> Result<Level, Box<dyn StdError + Send + Sync>> {
        Ok(text.parse()?)
    }
    assert_eq!(from_text("debug").unwrap(), Level::Debug);
    assert!(from_text("loud").is_err());
}

#[cfg(feature = "log")]
#[test]
fn level_from_log_level() {
    use asynclog::Level;

    let pairs = [
        (log::Level::Trace, Level::Trace),
        (log::Level::Debug, Level::Debug),
        (log::Level::Info, Level::Info),
        (log::Level::Warn, Level::Warn),
        (log::Level::Error, Level::Error),
    ];
    for (theirs, ours) in pairs {
        assert_eq!(Level::from(theirs), ours);
    }
}

#[cfg(feature = "tracing")]
#[test]
fn level_from_tracing_level() {
    use asynclog::Level;

    let pairs = [
        (tracing::Level::TRACE, Level::Trace),
        (tracing::Level::DEBUG, Level::Debug),
        (tracing::Level::INFO, Level::Info),
        (tracing::Level::WARN, Level::Warn),
        (tracing::Level::ERROR, Level::Error),
    ];
    for (theirs, ours) in pairs {
        assert_eq!(Level::from(theirs), ours);
    }
}

#[test]
fn option_values_hash_and_default() {
    use asynclog::sinks::file::SyncPolicy;
    use asynclog::sinks::Rotation;
    use asynclog::Backpressure;
    use std::collections::HashSet;

    // Options kept as keys, e.g. to group sinks by their settings.
    let rotations: HashSet<Rotation> = [Rotation::HOURLY, Rotation::DAILY, Rotation::HOURLY]
        .into_iter()
        .collect();
    assert_eq!(rotations.len(), 2);
    let policies: HashSet<SyncPolicy> = [SyncPolicy::OnFlush, SyncPolicy::EveryBatches(4)]
        .into_iter()
        .collect();
    assert_eq!(policies.len(), 2);
    let strategies: HashSet<Backpressure> = [Backpressure::Block, Backpressure::Drop]
        .into_iter()
        .collect();
    assert_eq!(strategies.len(), 2);
    #[cfg(feature = "parquet")]
    {
        use asynclog::sinks::parquet::{ParquetCompression, TimestampUnit, DEFAULT_COMPRESSION};

        assert_eq!(ParquetCompression::default(), DEFAULT_COMPRESSION);
        let codecs: HashSet<ParquetCompression> =
            [ParquetCompression::Zstd(3), ParquetCompression::default()]
                .into_iter()
                .collect();
        assert_eq!(codecs.len(), 2);
        let units: HashSet<TimestampUnit> = [TimestampUnit::Nanos].into_iter().collect();
        assert_eq!(units.len(), 1);
    }
    #[cfg(feature = "object-store")]
    {
        use asynclog::sinks::parquet::upload::SpoolFull;
        let policies: HashSet<SpoolFull> = [SpoolFull::DeleteOldest].into_iter().collect();
        assert_eq!(policies.len(), 1);
    }
}
