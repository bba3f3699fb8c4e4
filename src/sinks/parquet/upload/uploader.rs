//! The upload thread: looks at the spool, sends the oldest waiting file, deletes it once the
//! store confirms, backs off after a failure, and keeps the spool's counters.

use super::{redact, SpoolFull, UploadConfig, UploadEvent, PART_BYTES};
use crate::error::{Error, SinkError};
use crate::sinks::parquet::files::{FileName, Namer, FINISHED, UPLOADED};
use crate::telemetry::{UploadGauges, UploadTelemetry};
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often an idle upload thread looks at the spool for files it was not told of (recovered
/// files, another process's on the same spool).
const IDLE_LOOK: Duration = Duration::from_secs(1);
/// How often an upload in flight looks whether the sink began to close (see `Worker::send`).
const CLOSE_LOOK: Duration = Duration::from_millis(50);
/// The longest wait the upload thread schedules. A longer `close_wait` or back-off (up to
/// `Duration::MAX`, "no limit") waits this long: an `Instant` that far ahead may not exist.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The sink's handle on its upload thread.
pub(crate) struct Uploader {
    control: Arc<Control>,
    telemetry: UploadTelemetry,
    thread: Option<JoinHandle<()>>,
    sink: String,
    spool: PathBuf,
    limit: u64,
    policy: SpoolFull,
    close_wait: Duration,
}

#[derive(Default)]
struct Control {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Something changed (a file was finished, close began): look at the spool again now.
    poked: bool,
    /// Set by close: leave once the spool is empty or at this instant.
    close_by: Option<Instant>,
}

impl Control {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until poked or `until`.
    fn wait_until(&self, until: Instant) {
        let mut state = self.lock();
        loop {
            if std::mem::take(&mut state.poked) {
                return;
            }
            let now = Instant::now();
            if now >= until {
                return;
            }
            state = self
                .wake
                .wait_timeout(state, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Uploader {
    /// Starts the upload thread of the sink `sink`, whose files are named after `path`.
    pub(crate) fn start(config: UploadConfig, path: &Path, sink: &str) -> Result<Uploader, Error> {
        let namer = Namer::new(path).map_err(|reason| Error::Config {
            field: "path",
            reason,
        })?;
        let spool = namer.dir().to_path_buf();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io(format!("starting the upload runtime of sink `{sink}`"), e))?;
        let control = Arc::new(Control::default());
        let telemetry = UploadTelemetry::default();
        let (limit, policy, close_wait) = (
            config.spool_limit,
            config.when_spool_full,
            config.close_wait,
        );
        let worker = Worker {
            config,
            namer,
            sink: sink.to_owned(),
            control: control.clone(),
            gauges: telemetry.0.clone(),
            runtime,
            full: false,
            last_marker: None,
            failures: 0,
            retry_at: None,
        };
        let thread = std::thread::Builder::new()
            .name("asynclog-upload".into())
            .spawn(move || worker.run())
            .map_err(|e| Error::io(format!("starting the upload thread of sink `{sink}`"), e))?;
        Ok(Uploader {
            control,
            telemetry,
            thread: Some(thread),
            sink: sink.to_owned(),
            spool,
            limit,
            policy,
            close_wait,
        })
    }

    /// A file was finished: look at the spool now.
    pub(crate) fn poke(&self) {
        self.control.lock().poked = true;
        self.control.wake.notify_one();
    }

    pub(crate) fn telemetry(&self) -> UploadTelemetry {
        self.telemetry.clone()
    }

    /// Refuses a batch of `records` when the spool is full under [`SpoolFull::RefuseNew`].
    pub(crate) fn admit(&self, records: usize) -> Result<(), SinkError> {
        if self.policy != SpoolFull::RefuseNew {
            return Ok(());
        }
        let gauges = &self.telemetry.0;
        let spool_bytes = gauges.spool_bytes.load(Relaxed);
        if spool_bytes < self.limit {
            return Ok(());
        }
        gauges.refused_batches.fetch_add(1, Relaxed);
        gauges.refused_records.fetch_add(records as u64, Relaxed);
        Err(SinkError::SpoolFull {
            sink: self.sink.clone(),
            spool: self.spool.clone(),
            spool_bytes,
            limit: self.limit,
        })
    }

    /// Lets the thread send what waits for at most `close_wait`, then stops it.
    pub(crate) fn close(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        {
            let mut state = self.control.lock();
            state.close_by = Some(Instant::now() + self.close_wait.min(FOREVER));
            state.poked = true;
        }
        self.control.wake.notify_one();
        let _ = thread.join();
    }
}

impl Drop for Uploader {
    fn drop(&mut self) {
        self.close();
    }
}

/// A finished file in the spool.
struct Waiting {
    name: FileName,
    path: PathBuf,
    bytes: u64,
    finished: SystemTime,
}

struct Worker {
    config: UploadConfig,
    namer: Namer,
    sink: String,
    control: Arc<Control>,
    gauges: Arc<UploadGauges>,
    runtime: tokio::runtime::Runtime,
    /// The spool was full at the last look (to report `SpoolFull` once per filling).
    full: bool,
    /// The marker of the newest file sent (see `files::UPLOADED`).
    last_marker: Option<PathBuf>,
    /// Failed attempts in a row.
    failures: u32,
    /// No attempt before this (back-off).
    retry_at: Option<Instant>,
}

impl Worker {
    fn run(mut self) {
        self.tidy_markers();
        loop {
            let close_by = self.control.lock().close_by;
            let waiting = self.look();
            let now = Instant::now();
            if let Some(by) = close_by {
                if waiting.is_empty() {
                    return;
                }
                if now >= by {
                    let bytes = waiting.iter().map(|w| w.bytes).sum();
                    let files = waiting.len() as u64;
                    self.event(&UploadEvent::LeftInSpool { files, bytes });
                    return;
                }
            }
            let due = self.retry_at.is_none_or(|at| now >= at);
            let Some(oldest) = waiting.first().filter(|_| due) else {
                let until = match (waiting.is_empty(), self.retry_at) {
                    (false, Some(at)) => at,
                    _ => now + IDLE_LOOK,
                };
                self.control
                    .wait_until(close_by.map_or(until, |by| until.min(by)));
                continue;
            };
            self.send(oldest, close_by);
        }
    }

    /// Keeps the newest upload marker and deletes the others.
    fn tidy_markers(&mut self) {
        let Ok(found) = self.namer.scan() else { return };
        let mut markers: Vec<PathBuf> = found
            .into_iter()
            .filter(|(_, suffix)| *suffix == UPLOADED)
            .map(|(name, _)| name.uploaded())
            .collect();
        self.last_marker = markers.pop();
        for old in markers {
            let _ = fs::remove_file(old);
        }
    }

    /// Lists the waiting files, oldest first, updates the spool counters, and applies the
    /// spool policy.
    fn look(&mut self) -> Vec<Waiting> {
        let files = match self.namer.finished_files() {
            Ok(files) => files,
            Err(e) => {
                let dir = self.namer.dir().display().to_string();
                self.set_error(format!("listing the upload spool {dir}: {e}"));
                return Vec::new();
            }
        };
        let mut waiting: Vec<Waiting> = files
            .into_iter()
            .filter_map(|path| {
                let meta = fs::metadata(&path).ok()?; // gone: sent by another process
                let file_name = path.file_name()?.to_str()?;
                let stem = file_name.strip_suffix(FINISHED)?.to_owned();
                Some(Waiting {
                    name: FileName {
                        dir: self.namer.dir().to_path_buf(),
                        stem,
                    },
                    bytes: meta.len(),
                    finished: meta.modified().unwrap_or(UNIX_EPOCH),
                    path,
                })
            })
            .collect();
        let mut bytes: u64 = waiting.iter().map(|w| w.bytes).sum();
        let limit = self.config.spool_limit;
        if bytes >= limit {
            if !self.full {
                self.full = true;
                let policy = self.config.when_spool_full;
                self.event(&UploadEvent::SpoolFull {
                    spool_bytes: bytes,
                    limit,
                    policy,
                });
            }
            if self.config.when_spool_full == SpoolFull::DeleteOldest {
                let mut kept = 0;
                // Never the newest file: it is the newest log, and alone past the limit it
                // would otherwise be deleted unsent even while the store is up.
                while bytes >= limit && kept + 1 < waiting.len() {
                    let file = &waiting[kept];
                    match fs::remove_file(&file.path) {
                        Ok(()) => {
                            self.gauges.evicted_files.fetch_add(1, Relaxed);
                            self.gauges.evicted_bytes.fetch_add(file.bytes, Relaxed);
                            let (path, size) = (file.path.clone(), file.bytes);
                            self.event(&UploadEvent::Evicted {
                                file: &path,
                                bytes: size,
                            });
                            bytes -= size;
                            waiting.remove(kept);
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            bytes -= file.bytes;
                            waiting.remove(kept);
                        }
                        Err(e) => {
                            let path = file.path.display().to_string();
                            self.set_error(format!("deleting {path} from a full spool: {e}"));
                            kept += 1;
                        }
                    }
                }
            }
        } else {
            self.full = false;
        }
        let g = &self.gauges;
        g.spool_files.store(waiting.len() as u64, Relaxed);
        g.spool_bytes.store(bytes, Relaxed);
        let since = waiting.first().map_or(0, |w| {
            let ns = w.finished.duration_since(UNIX_EPOCH).unwrap_or_default();
            (ns.as_nanos() as u64).max(1)
        });
        g.oldest_waiting_since_ns.store(since, Relaxed);
        waiting
    }

    /// One attempt at `file`.
    fn send(&mut self, file: &Waiting, close_by: Option<Instant>) {
        let file_name = format!("{}{FINISHED}", file.name.stem);
        let opened = file.name.opened_secs().unwrap_or(0);
        let key = self.config.key(opened, &file_name);
        let opened_file = fs::File::open(&file.path).and_then(|f| Ok((f.metadata()?.len(), f)));
        let (bytes, local) = match opened_file {
            Ok(opened) => opened,
            // Sent and deleted by another process sharing the spool.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => {
                let message = format!("reading {}: {e}", file.path.display());
                return self.failed(file, &key, message);
            }
        };
        let started = Instant::now();
        let store = self.config.store.clone();
        let location = object_store::path::Path::from(key.as_str());
        let threshold = self.config.multipart_threshold;
        let attempt = put(store.as_ref(), &location, local, bytes, threshold);
        let control = self.control.clone();
        let result = self.runtime.block_on(async {
            let mut attempt = std::pin::pin!(attempt);
            let mut close_by = close_by;
            loop {
                // A close that begins while the store is still answering bounds the attempt
                // too, so `close` waits at most `close_wait` (not the store's own timeout).
                close_by = close_by.or_else(|| control.lock().close_by);
                let step = close_by.map_or(CLOSE_LOOK, |by| {
                    by.saturating_duration_since(Instant::now()).min(CLOSE_LOOK)
                });
                match tokio::time::timeout(step, attempt.as_mut()).await {
                    Ok(result) => return result,
                    Err(_) if close_by.is_some_and(|by| Instant::now() >= by) => {
                        return Err("the sink closed before the store answered".into())
                    }
                    Err(_) => {}
                }
            }
        });
        if let Err(error) = result {
            let message = format!(
                "uploading {} to {} as `{key}`: {}",
                file.path.display(),
                self.config.destination,
                redact(&error, &self.config.secrets)
            );
            return self.failed(file, &key, message);
        }
        let took = started.elapsed();
        // The store has the file: leave the marker that keeps its name from being reused,
        // then delete it. A crash in between sends it again under the same key. Only a name
        // sorting after the marker moves it: a file another sink on this spool finished late,
        // under an older name, must not take it back below a name already sent, which the
        // namer would then hand out (and so its key) again.
        let marker = file.name.uploaded();
        if self.last_marker.as_ref().is_none_or(|last| marker > *last) {
            match fs::File::create(&marker) {
                Err(e) => self.set_error(format!("creating {}: {e}", marker.display())),
                Ok(_) => {
                    if let Some(previous) = self.last_marker.replace(marker) {
                        let _ = fs::remove_file(previous);
                    }
                }
            }
        }
        if let Err(e) = fs::remove_file(&file.path) {
            if e.kind() != io::ErrorKind::NotFound {
                let path = file.path.display();
                self.set_error(format!("deleting {path} after its upload: {e}"));
            }
        } else {
            *self
                .gauges
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = None;
        }
        self.failures = 0;
        self.retry_at = None;
        self.gauges.uploaded_files.fetch_add(1, Relaxed);
        self.gauges.uploaded_bytes.fetch_add(bytes, Relaxed);
        let waited = SystemTime::now()
            .duration_since(file.finished)
            .unwrap_or_default();
        self.event(&UploadEvent::Uploaded {
            file: &file.path,
            key: &key,
            bytes,
            took,
            waited,
        });
    }

    /// Counts a failed attempt and schedules the next after the back-off.
    fn failed(&mut self, file: &Waiting, key: &str, message: String) {
        self.failures = self.failures.saturating_add(1);
        let retry_in = self.backoff();
        self.retry_at = Some(Instant::now() + retry_in.min(FOREVER));
        self.gauges.failed_attempts.fetch_add(1, Relaxed);
        self.set_error(message.clone());
        self.event(&UploadEvent::Failed {
            file: &file.path,
            key,
            error: &message,
            attempt: self.failures,
            retry_in,
        });
    }

    /// `retry_initial` doubled per failure in a row, at most `retry_max`, of which a random
    /// 50-100% (jitter, so a fleet coming back from an outage does not retry in step).
    fn backoff(&self) -> Duration {
        let shift = self.failures.saturating_sub(1).min(20);
        let full = self
            .config
            .retry_initial
            .saturating_mul(1 << shift)
            .min(self.config.retry_max);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        full / 2 + full.mul_f64((random % 1000) as f64 / 2000.0)
    }

    fn set_error(&self, message: String) {
        *self
            .gauges
            .last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(message);
    }

    fn event(&self, event: &UploadEvent<'_>) {
        if let Some(hook) = &self.config.on_event {
            let _ = catch_unwind(AssertUnwindSafe(|| hook(&self.sink, event)));
        }
    }
}

/// Puts the `len` bytes of `file` at `location`: one `PUT` up to `threshold`, else a multipart
/// upload read part by part (a file is never held in memory whole), aborted if a part fails, so
/// the object appears whole or not at all. Reads block the upload thread's runtime, which runs
/// nothing else.
async fn put(
    store: &dyn ObjectStore,
    location: &object_store::path::Path,
    mut file: fs::File,
    len: u64,
    threshold: u64,
) -> Result<(), String> {
    use std::io::Read;
    let read_error = |e: io::Error| format!("reading the file: {e}");
    if len <= threshold {
        let mut data = Vec::with_capacity(len as usize);
        file.read_to_end(&mut data).map_err(read_error)?;
        return store
            .put(location, data.into())
            .await
            .map(drop)
            .map_err(|e| e.to_string());
    }
    let upload = store
        .put_multipart(location)
        .await
        .map_err(|e| e.to_string())?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let mut part = vec![0u8; PART_BYTES];
    loop {
        let n = match read_full(&mut file, &mut part) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(read_error(e));
            }
        };
        if let Err(e) = writer.wait_for_capacity(4).await {
            let _ = writer.abort().await;
            return Err(e.to_string());
        }
        writer.write(&part[..n]);
    }
    writer.finish().await.map(drop).map_err(|e| e.to_string())
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn read_full(file: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
