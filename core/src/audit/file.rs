//! A JSON Lines file sink with a hash chain, restart and rotation.
//!
//! # Invariants
//! - One line per event, each ending in `\n`, each carrying `chain` (see [`super::chain`]).
//! - `record` returns `Ok` only once the whole line has been handed to the operating system
//!   (and, with [`FileOptions::sync`], once it is on disk); that is the acknowledgement.
//! - A write that fails part way is cut off again (the file is truncated to its length before
//!   the write), so the chain never holds half an event and the next event links to the last
//!   acknowledged one. If even that fails, the sink is poisoned and refuses every later event.
//! - On open, an incomplete last line (a write interrupted by a crash, never acknowledged) is
//!   cut off, and the chain continues from the last complete event, in the active file or, when
//!   that is empty, in the newest rotated file.
//! - Rotation renames the active file to `<path>.<n>` (`n` counting up from 1, six digits) and
//!   starts a new one whose first event links to the last event of the rotated file.
//! - The active file is locked (an advisory lock) while the sink is open: two sinks, in one
//!   process or two, never write the same chain.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::chain::{ChainKey, GENESIS, event_hash};
use super::verify::rotated_files;
use super::{AuditError, AuditEvent, AuditSink, ChainInfo};

/// How a [`FileSink`] writes.
#[derive(Debug, Clone, Default)]
pub struct FileOptions {
    /// Rotate before an event would make the active file larger than this many bytes.
    pub rotate_bytes: Option<u64>,
    /// `fsync` every event before acknowledging it (slower; survives a power loss).
    pub sync: bool,
    /// Key the chain's hashes (HMAC-SHA-256) with a host secret.
    pub key: Option<ChainKey>,
}

/// Hash-chained JSON Lines in a file (see the module docs).
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    options: FileOptions,
    state: Mutex<State>,
}

/// The file a sink writes: a trait so tests can make writes fail part way.
pub(crate) trait LogFile: Send + std::fmt::Debug {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    fn sync(&mut self) -> std::io::Result<()>;
    fn truncate(&mut self, len: u64) -> std::io::Result<()>;
}

impl LogFile for File {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write_all(bytes)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_data()
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.set_len(len)?;
        self.seek(SeekFrom::Start(len)).map(|_| ())
    }
}

#[derive(Debug)]
struct State {
    file: Box<dyn LogFile>,
    /// Bytes of acknowledged events in the active file.
    len: u64,
    next_seq: u64,
    prev: String,
    /// Number of the next rotated file.
    next_rotation: u64,
    poisoned: Option<String>,
}

impl FileSink {
    /// Open (or create) the log at `path` with default options.
    ///
    /// # Errors
    /// As [`FileSink::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<FileSink, AuditError> {
        FileSink::open_with(path, FileOptions::default())
    }

    /// Open (or create) the log at `path`, continuing its chain.
    ///
    /// # Errors
    /// [`AuditError::Io`] when the file cannot be read, written or locked (another sink has
    /// it open); [`AuditError::Corrupt`] when its last complete line is not a chained event.
    pub fn open_with(path: impl AsRef<Path>, options: FileOptions) -> Result<FileSink, AuditError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| AuditError::Io { path: path.display().to_string(), source };
        let mut file =
            OpenOptions::new().create(true).read(true).append(true).open(&path).map_err(io)?;
        file.try_lock().map_err(|e| {
            io(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!("another audit sink holds this log open ({e})"),
            ))
        })?;
        let rotated = rotated_files(&path).map_err(io)?;
        let next_rotation = rotated.last().map_or(1, |(n, _)| n + 1);
        // Cut off an interrupted last line, then continue from the last complete event.
        let (len, last) = last_line(&mut file).map_err(io)?;
        file.set_len(len).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let (last_path, last) = match last {
            Some(line) => (path.clone(), Some((line, count_lines(&path).map_err(io)?))),
            None => match rotated.last() {
                Some((_, p)) => {
                    let mut f = File::open(p).map_err(|source| AuditError::Io {
                        path: p.display().to_string(),
                        source,
                    })?;
                    let (_, line) = last_line(&mut f).map_err(|source| AuditError::Io {
                        path: p.display().to_string(),
                        source,
                    })?;
                    let n = count_lines(p).map_err(|source| AuditError::Io {
                        path: p.display().to_string(),
                        source,
                    })?;
                    (p.clone(), line.map(|l| (l, n)))
                }
                None => (path.clone(), None),
            },
        };
        let (next_seq, prev) = match last {
            None => (0, GENESIS.to_owned()),
            Some((line, line_no)) => {
                let corrupt = |message: String| AuditError::Corrupt {
                    path: last_path.display().to_string(),
                    line: line_no,
                    message,
                };
                let event: AuditEvent = serde_json::from_slice(&line)
                    .map_err(|e| corrupt(format!("the last event does not parse: {e}")))?;
                let chain = event
                    .chain
                    .ok_or_else(|| corrupt("the last event carries no `chain`".to_owned()))?;
                (chain.seq + 1, chain.hash)
            }
        };
        Ok(FileSink {
            path,
            options,
            state: Mutex::new(State {
                file: Box::new(file),
                len,
                next_seq,
                prev,
                next_rotation,
                poisoned: None,
            }),
        })
    }

    /// The path of the active file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The hash of the last acknowledged event ([`GENESIS`] for an empty log): a value to keep
    /// elsewhere so that a log cut short at its end can be told from a complete one.
    pub fn head(&self) -> Option<(u64, String)> {
        let state = self.state.lock().ok()?;
        Some((state.next_seq, state.prev.clone()))
    }

    fn io(&self, source: std::io::Error) -> AuditError {
        AuditError::Io { path: self.path.display().to_string(), source }
    }

    fn rotate(&self, state: &mut State) -> Result<(), AuditError> {
        state.file.sync().map_err(|e| self.io(e))?;
        let target = PathBuf::from(format!("{}.{:06}", self.path.display(), state.next_rotation));
        if target.exists() {
            return Err(self.io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("cannot rotate: {} exists", target.display()),
            )));
        }
        std::fs::rename(&self.path, &target).map_err(|e| self.io(e))?;
        let opened = OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .and_then(|f| f.try_lock().map(|()| f).map_err(std::io::Error::other));
        match opened {
            Ok(file) => {
                state.file = Box::new(file);
                state.len = 0;
                state.next_rotation += 1;
                Ok(())
            }
            Err(e) => {
                let message =
                    format!("rotated to {} but could not start a new file: {e}", target.display());
                state.poisoned = Some(message.clone());
                Err(AuditError::Poisoned { path: self.path.display().to_string(), message })
            }
        }
    }

    #[cfg(test)]
    fn replace_file(&self, file: Box<dyn LogFile>) {
        if let Ok(mut state) = self.state.lock() {
            state.file = file;
        }
    }
}

impl AuditSink for FileSink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let mut state = self.state.lock().map_err(|_| AuditError::Poisoned {
            path: self.path.display().to_string(),
            message: "a writer panicked while holding the log".to_owned(),
        })?;
        if let Some(message) = &state.poisoned {
            return Err(AuditError::Poisoned {
                path: self.path.display().to_string(),
                message: message.clone(),
            });
        }
        let mut event = event.clone();
        event.chain =
            Some(ChainInfo { seq: state.next_seq, prev: state.prev.clone(), hash: String::new() });
        let hash = event_hash(&event, self.options.key.as_ref()).map_err(AuditError::Sink)?;
        if let Some(chain) = event.chain.as_mut() {
            chain.hash.clone_from(&hash);
        }
        let mut line = serde_json::to_vec(&event).map_err(|e| AuditError::Sink(e.to_string()))?;
        line.push(b'\n');
        let size = line.len() as u64;
        if let Some(limit) = self.options.rotate_bytes
            && state.len > 0
            && state.len + size > limit
        {
            self.rotate(&mut state)?;
        }
        let written = state
            .file
            .append(&line)
            .and_then(|()| if self.options.sync { state.file.sync() } else { Ok(()) });
        match written {
            Ok(()) => {
                state.len += size;
                state.next_seq += 1;
                state.prev = hash;
                Ok(())
            }
            Err(e) => {
                let good = state.len;
                if let Err(cut) = state.file.truncate(good) {
                    state.poisoned = Some(format!(
                        "a write failed ({e}) and the file could not be cut back ({cut})"
                    ));
                }
                Err(self.io(e))
            }
        }
    }
}

/// The length up to the end of the last complete line, and that line (without its `\n`).
fn last_line(file: &mut File) -> std::io::Result<(u64, Option<Vec<u8>>)> {
    const BLOCK: u64 = 64 * 1024;
    let size = file.seek(SeekFrom::End(0))?;
    // Walk backwards in blocks, collecting bytes until two newlines (or the start) are seen.
    let mut tail: Vec<u8> = Vec::new();
    let mut pos = size;
    let mut end_of_complete: Option<u64> = None;
    loop {
        if let Some(end) = end_of_complete {
            // The start of the last complete line is after the newline before `end - 1`.
            let upto = usize::try_from(end - pos).unwrap_or(usize::MAX).min(tail.len());
            let body = tail.get(..upto.saturating_sub(1)).unwrap_or_default();
            if let Some(nl) = body.iter().rposition(|&b| b == b'\n') {
                let line = body.get(nl + 1..).unwrap_or_default().to_vec();
                return Ok((end, Some(line)));
            }
            if pos == 0 {
                return Ok((end, Some(body.to_vec())));
            }
        } else if let Some(nl) = tail.iter().rposition(|&b| b == b'\n') {
            end_of_complete = Some(pos + nl as u64 + 1);
            continue;
        } else if pos == 0 {
            return Ok((0, None));
        }
        let start = pos.saturating_sub(BLOCK);
        let mut block = vec![0; usize::try_from(pos - start).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut block)?;
        block.extend_from_slice(&tail);
        tail = block;
        pos = start;
    }
}

/// Number of complete lines in a file (for error messages).
fn count_lines(path: &Path) -> std::io::Result<usize> {
    let mut file = File::open(path)?;
    let mut buf = vec![0; 64 * 1024];
    let mut n = 0;
    loop {
        let read = file.read(&mut buf)?;
        if read == 0 {
            return Ok(n);
        }
        n += buf.get(..read).unwrap_or_default().iter().filter(|&&b| b == b'\n').count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{MemorySink, verify};

    /// A file whose writes fail after `budget` more bytes, writing the bytes that fit first.
    #[derive(Debug)]
    struct Failing {
        inner: File,
        budget: usize,
    }

    impl LogFile for Failing {
        fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            if bytes.len() <= self.budget {
                self.budget -= bytes.len();
                return self.inner.write_all(bytes);
            }
            let part = bytes.get(..self.budget).unwrap_or_default();
            self.inner.write_all(part)?;
            self.budget = 0;
            Err(std::io::Error::other("disk full"))
        }
        fn sync(&mut self) -> std::io::Result<()> {
            Ok(())
        }
        fn truncate(&mut self, len: u64) -> std::io::Result<()> {
            LogFile::truncate(&mut self.inner, len)
        }
    }

    fn sample(n: u64) -> AuditEvent {
        let engine = crate::Engine::from_yaml(
            "version: 1\nresources: [{name: db, kind: postgres}]\nrules:\n  - {id: r, effect: allow, when: {sql: {read_only: true}}}\n",
        )
        .unwrap();
        let request = crate::Request::sql(
            crate::Principal::new("agent:a", ["g"]),
            "db",
            format!("SELECT {n}"),
        );
        let checked = engine.check_with(&request, &crate::identity::Context::default());
        AuditEvent::decision(&request, &checked, Some("postgres"), n, 1)
    }

    #[test]
    fn a_write_failing_part_way_loses_nothing_acknowledged_and_keeps_the_chain() {
        let dir = tempdir("fail");
        let path = dir.join("audit.jsonl");
        let sink = FileSink::open(&path).unwrap();
        for n in 0..3 {
            sink.record(&sample(n)).unwrap();
        }
        let file = OpenOptions::new().read(true).append(true).open(&path).unwrap();
        sink.replace_file(Box::new(Failing { inner: file, budget: 40 }));
        assert!(sink.record(&sample(3)).is_err());
        // The half line was cut off: the file verifies with the three acknowledged events.
        let report = verify(&path, None, false).unwrap();
        assert_eq!(report.events, 3);
        assert!(report.broken.is_none(), "{report:?}");
        // Writing resumes on the same chain once the file works again.
        let file = OpenOptions::new().read(true).append(true).open(&path).unwrap();
        sink.replace_file(Box::new(file));
        sink.record(&sample(4)).unwrap();
        let report = verify(&path, None, false).unwrap();
        assert_eq!(report.events, 4);
        assert!(report.broken.is_none(), "{report:?}");
        let _ = MemorySink::new();
    }

    #[test]
    fn reopening_cuts_an_interrupted_line_and_continues_the_chain() {
        let dir = tempdir("reopen");
        let path = dir.join("audit.jsonl");
        {
            let sink = FileSink::open(&path).unwrap();
            sink.record(&sample(0)).unwrap();
            sink.record(&sample(1)).unwrap();
        }
        // A crash in the middle of a write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"time\":12,\"class_").unwrap();
        drop(f);
        let sink = FileSink::open(&path).unwrap();
        assert_eq!(sink.head().unwrap().0, 2);
        sink.record(&sample(2)).unwrap();
        let report = verify(&path, None, false).unwrap();
        assert_eq!(report.events, 3);
        assert!(report.broken.is_none(), "{report:?}");
    }

    #[test]
    fn a_second_sink_on_the_same_file_is_refused() {
        let dir = tempdir("lock");
        let path = dir.join("audit.jsonl");
        let _first = FileSink::open(&path).unwrap();
        let err = FileSink::open(&path).unwrap_err();
        assert!(err.to_string().contains("another audit sink"), "{err}");
    }

    #[test]
    fn last_line_finds_lines_across_block_boundaries() {
        let dir = tempdir("blocks");
        let path = dir.join("f");
        let long = "x".repeat(70_000);
        std::fs::write(&path, format!("a\n{long}\nb")).unwrap();
        let mut f = File::open(&path).unwrap();
        let (len, line) = last_line(&mut f).unwrap();
        assert_eq!(len, 2 + 70_001);
        assert_eq!(line.unwrap().len(), 70_000);
        std::fs::write(&path, "only\n").unwrap();
        let mut f = File::open(&path).unwrap();
        assert_eq!(last_line(&mut f).unwrap(), (5, Some(b"only".to_vec())));
        std::fs::write(&path, "partial").unwrap();
        let mut f = File::open(&path).unwrap();
        assert_eq!(last_line(&mut f).unwrap(), (0, None));
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "writ-audit-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
