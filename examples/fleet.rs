//! Several hosts, one bucket: each simulated host is a process of its own that logs into a
//! Parquet sink uploading to S3, then the example prints the DuckDB query that reads them all.
//!
//! ```text
//! AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//! AWS_REGION=us-east-1 cargo run --release --example fleet --features object-store -- \
//!     --bucket logs --hosts 4 --records 250000
//! ```
//!
//! Credentials and endpoint come from the usual `AWS_*` variables; the bucket must exist. Each
//! host `host-N` logs `--records` records (spread over `--seconds` if given) (`seq` 0.., its own name in `origin`) into its spool
//! `DIR/spool-host-N/` and closes, waiting up to `--close-wait-secs` for the store to take
//! every file. Each host prints one `HOST {...}` JSON line (records, files and bytes uploaded,
//! the time the PUTs took, and the delay from each file's finish to its confirmation in the
//! bucket); the parent then prints `EXPECT {...}` (records per host) and the query.

use asynclog::sinks::parquet::upload::{UploadConfig, UploadEvent};
use asynclog::sinks::Rotation;
use asynclog::{Config, Logger, ParquetSinkConfig};
use clap::Parser;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
struct Args {
    /// The bucket (it must exist).
    #[arg(long, default_value = "asynclog-fleet")]
    bucket: String,
    /// Key prefix inside the bucket.
    #[arg(long, default_value = "fleet")]
    prefix: String,
    /// Simulated hosts (processes).
    #[arg(long, default_value_t = 4)]
    hosts: usize,
    /// Records per host.
    #[arg(long, default_value_t = 250_000)]
    records: u64,
    /// Where the hosts' spools go (emptied first).
    #[arg(long, default_value = "target/fleet")]
    dir: PathBuf,
    /// How long each host's close waits for the store to take its files.
    #[arg(long, default_value_t = 120)]
    close_wait_secs: u64,
    /// Spread each host's records over this many seconds (0: as fast as it can).
    #[arg(long, default_value_t = 0.0)]
    seconds: f64,
    /// Size rotation of each host's files.
    #[arg(long, default_value_t = 1 << 20)]
    max_bytes: u64,
    /// Files larger than this go up as multipart uploads.
    #[arg(long, default_value_t = asynclog::sinks::parquet::upload::DEFAULT_MULTIPART_THRESHOLD)]
    multipart_threshold: u64,
    /// Run as this one host (the parent passes it to its children).
    #[arg(long, hide = true)]
    as_host: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if let Some(host) = &args.as_host {
        return run_host(&args, host);
    }
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)?;
    }
    let started = Instant::now();
    let children: Vec<_> = (0..args.hosts)
        .map(|i| {
            Command::new(std::env::current_exe()?)
                .args(std::env::args().skip(1))
                .args(["--as-host", &format!("host-{i}")])
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut failed = 0;
    for mut child in children {
        if !child.wait()?.success() {
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {} hosts failed", args.hosts).into());
    }
    let expect: Vec<String> = (0..args.hosts)
        .map(|i| format!("\"host-{i}\":{}", args.records))
        .collect();
    println!(
        "EXPECT {{\"records\":{{{}}},\"seconds\":{:.3}}}",
        expect.join(","),
        started.elapsed().as_secs_f64()
    );
    println!("Every host's logs, one query (DuckDB with httpfs, S3 settings as above):");
    println!(
        "  SELECT host, dt, hour, count(*) FROM read_parquet('s3://{}/{}/**/*.parquet', \
         hive_partitioning = true) GROUP BY ALL ORDER BY ALL;",
        args.bucket, args.prefix
    );
    Ok(())
}

/// Per file: bytes, PUT time, finish-to-confirmation delay.
type Uploads = Arc<Mutex<Vec<(u64, Duration, Duration)>>>;

fn run_host(args: &Args, host: &str) -> Result<(), Box<dyn std::error::Error>> {
    let uploads: Uploads = Arc::default();
    let seen = uploads.clone();
    let close_wait = Duration::from_secs(args.close_wait_secs);
    let upload = UploadConfig::s3(&args.bucket)?
        .with_prefix(args.prefix.as_str())
        .with_host(host)
        .with_close_wait(close_wait)
        .with_multipart_threshold(args.multipart_threshold)
        .with_on_event(move |sink, event| match event {
            UploadEvent::Uploaded {
                bytes,
                took,
                waited,
                ..
            } => seen.lock().unwrap().push((*bytes, *took, *waited)),
            UploadEvent::Failed {
                error, retry_in, ..
            } => eprintln!("{sink}: {error} (next try in {retry_in:?})"),
            other => eprintln!("{sink}: {other:?}"),
        });
    let sink = ParquetSinkConfig::new(args.dir.join(format!("spool-{host}")).join("app"))
        .with_name("fleet")
        .with_rotation(Rotation::HOURLY)
        .with_max_bytes(args.max_bytes)
        .with_upload(upload)
        .build()?;
    let config = Config::default()
        .with_close_timeout(close_wait + Duration::from_secs(30))
        .with_sink(sink);
    let logger = Logger::new(config)?;
    let started = Instant::now();
    let chunk = (args.records / 100).max(1);
    for seq in 0..args.records {
        if args.seconds > 0.0 && seq % chunk == 0 {
            let due = Duration::from_secs_f64(args.seconds * seq as f64 / args.records as f64);
            std::thread::sleep(due.saturating_sub(started.elapsed()));
        }
        asynclog::info!(
            logger,
            "order filled",
            seq = seq,
            origin = host,
            order_id = seq * 7 + 1,
            price = 100.0 + (seq % 100) as f64 / 8.0
        );
    }
    logger.close()?;
    let seconds = started.elapsed().as_secs_f64();
    let stats = logger.stats();
    let upload = stats.sink("fleet").and_then(|s| s.upload.clone()).unwrap();
    let uploads = uploads.lock().unwrap();
    let put_seconds: f64 = uploads.iter().map(|u| u.1.as_secs_f64()).sum();
    let mut delays: Vec<f64> = uploads.iter().map(|u| u.2.as_secs_f64() * 1e3).collect();
    delays.sort_by(f64::total_cmp);
    let median = delays.get(delays.len() / 2).copied().unwrap_or(0.0);
    let max = delays.last().copied().unwrap_or(0.0);
    println!(
        "HOST {{\"host\":\"{host}\",\"records\":{},\"delivered\":{},\"files\":{},\"bytes\":{},\
         \"failed_attempts\":{},\"left_in_spool\":{},\"put_seconds\":{put_seconds:.4},\
         \"visible_after_finish_ms\":{{\"median\":{median:.1},\"max\":{max:.1}}},\
         \"seconds\":{seconds:.3}}}",
        args.records,
        stats.delivered,
        upload.uploaded_files,
        upload.uploaded_bytes,
        upload.failed_attempts,
        upload.spool_files
    );
    if upload.spool_files > 0 || stats.delivered != args.records {
        return Err(format!("{host}: files left in the spool or records lost: {upload:?}").into());
    }
    Ok(())
}
