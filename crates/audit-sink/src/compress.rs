//! Crash-safe gzip of rotated segments, on a background thread.
//!
//! A segment is compressed into a hidden temporary file, which is synced and then renamed to
//! the `.gz` name; only then is the original removed. A crash at any point leaves the whole
//! `.jsonl`, or the whole `.gz`, or both whole (start-up then removes the `.jsonl`), never a
//! truncated `.gz` under its final name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::SinkError;
use crate::file_sink::{LOCK_FILE_NAME, sync_dir};
use crate::naming::SegmentName;

/// The hidden temporary name a `.gz` is written under by process `pid`.
pub(crate) fn temp_name(target: &SegmentName, pid: u32) -> String {
    format!(".{target}.{pid}.tmp")
}

/// The pid in a temporary name written by [`temp_name`], if `name` is one.
pub(crate) fn temp_owner(name: &str) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, pid) = inner.rsplit_once('.')?;
    SegmentName::parse(target).filter(|name| name.compressed)?;
    pid.parse().ok()
}

/// Compresses the uncompressed segment `name` in `dir`, then removes it.
///
/// Does nothing when the segment is gone (retention or another process got there first), and
/// only removes the original when a `.gz` of it already exists.
///
/// # Errors
///
/// A [`SinkError`] naming the file that could not be read, written, synced or renamed.
pub(crate) fn compress_segment(dir: &Path, name: &SegmentName) -> Result<(), SinkError> {
    let source_path = dir.join(name.to_string());
    let target = name.to_compressed();
    let target_path = dir.join(target.to_string());
    let temp_path = dir.join(temp_name(&target, std::process::id()));

    if !target_path.exists() {
        let source = match File::open(&source_path) {
            Ok(source) => source,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(SinkError::io("open for compression", &source_path, error)),
        };
        if let Err(error) = write_gzip(source, &temp_path) {
            let _ = fs::remove_file(&temp_path);
            return Err(error);
        }
    }

    // The final rename and removal happen under the directory's lock, so that they never race
    // with retention deleting the same segment in another process.
    let lock_path = dir.join(LOCK_FILE_NAME);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|error| SinkError::io("open", &lock_path, error))?;
    lock.lock().map_err(|error| SinkError::io("lock", &lock_path, error))?;
    let result = finish(&source_path, &temp_path, &target_path, dir);
    let _ = lock.unlock();
    result
}

fn write_gzip(source: File, temp_path: &Path) -> Result<(), SinkError> {
    let temp = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(temp_path)
        .map_err(|error| SinkError::io("create", temp_path, error))?;
    let mut encoder =
        GzEncoder::new(BufWriter::with_capacity(256 * 1024, temp), Compression::new(6));
    let written = io::copy(&mut BufReader::with_capacity(256 * 1024, source), &mut encoder)
        .and_then(|_| encoder.finish())
        .and_then(|mut writer| {
            writer.flush()?;
            writer.into_inner().map_err(io::IntoInnerError::into_error)
        })
        .and_then(|file| file.sync_all());
    written.map_err(|error| SinkError::io("write compressed", temp_path, error))
}

fn finish(
    source_path: &Path,
    temp_path: &Path,
    target_path: &Path,
    dir: &Path,
) -> Result<(), SinkError> {
    if temp_path.exists() {
        if !source_path.exists() {
            // Retention deleted the segment while it was being compressed.
            let _ = fs::remove_file(temp_path);
            return Ok(());
        }
        fs::rename(temp_path, target_path)
            .map_err(|error| SinkError::io("rename into", target_path, error))?;
        sync_dir(dir)?;
    }
    match fs::remove_file(source_path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(SinkError::io("remove compressed original", source_path, error)),
    }
}

/// A background thread compressing the segments it is sent, in order.
#[derive(Debug)]
pub(crate) struct Compressor {
    jobs: Option<Sender<SegmentName>>,
    worker: Option<JoinHandle<()>>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl Compressor {
    pub(crate) fn start(dir: PathBuf) -> Result<Compressor, SinkError> {
        let (jobs, queue): (Sender<SegmentName>, Receiver<SegmentName>) = mpsc::channel();
        let last_error = Arc::new(Mutex::new(None));
        let worker_error = Arc::clone(&last_error);
        let worker = thread::Builder::new()
            .name("audit-gzip".into())
            .spawn(move || {
                for name in queue {
                    if let Err(error) = compress_segment(&dir, &name) {
                        let text = crate::error::error_chain(&error);
                        *worker_error.lock().unwrap_or_else(|poison| poison.into_inner()) =
                            Some(text);
                    }
                }
            })
            .map_err(|error| SinkError::io("start the compression thread for", "", error))?;
        Ok(Compressor { jobs: Some(jobs), worker: Some(worker), last_error })
    }

    pub(crate) fn submit(&self, name: SegmentName) {
        if let Some(jobs) = &self.jobs {
            // A send only fails once the worker is gone; the segment then stays uncompressed
            // and the next start-up compresses it.
            let _ = jobs.send(name);
        }
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|poison| poison.into_inner()).clone()
    }

    /// Finishes the queued jobs and stops the thread.
    pub(crate) fn finish(&mut self) {
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        self.finish();
    }
}
