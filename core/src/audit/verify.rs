//! Verifying a chain: every event parses, carries `chain`, counts up by one, links to the
//! previous event's hash, and hashes to what it says.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::chain::{ChainKey, GENESIS, value_hash};
use super::{AuditError, ChainInfo};

/// The result of verifying a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Files read, oldest first.
    pub files: Vec<String>,
    /// Events that verified before the first broken link (all of them when none is broken).
    pub events: u64,
    /// Sequence number of the first event.
    pub first_seq: Option<u64>,
    /// The last verified event's `(seq, hash)`: compare with a head kept elsewhere to detect
    /// events cut off the end.
    pub head: Option<(u64, String)>,
    /// The first broken link; `None` when the whole log verified.
    pub broken: Option<Broken>,
}

/// Where and how a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The rotated files of the log at `path` (`<path>.000001`, ...), oldest first, with their
/// numbers.
///
/// # Errors
/// The directory cannot be read.
pub fn rotated_files(path: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.");
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else { continue };
        if let Some(rest) = file_name.strip_prefix(&prefix)
            && rest.len() == 6
            && rest.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = rest.parse::<u64>()
        {
            out.push((n, dir.join(file_name)));
        }
    }
    out.sort();
    Ok(out)
}

/// Verify the log at `path` together with its rotated files.
///
/// `partial` accepts a log whose first event is not the chain's first (older files were
/// removed on purpose); otherwise such a log is reported broken at its first line.
///
/// # Errors
/// A file cannot be read ([`AuditError::Io`]). A broken chain is not an error: it is reported
/// in [`Verified::broken`].
pub fn verify(path: &Path, key: Option<&ChainKey>, partial: bool) -> Result<Verified, AuditError> {
    let io = |source| AuditError::Io { path: path.display().to_string(), source };
    let mut files: Vec<PathBuf> =
        rotated_files(path).map_err(io)?.into_iter().map(|(_, p)| p).collect();
    if path.exists() || files.is_empty() {
        files.push(path.to_path_buf());
    }
    verify_files(&files, key, partial)
}

/// Verify the events of `files`, read in the order given, as one chain.
///
/// # Errors
/// As [`verify`].
pub fn verify_files(
    files: &[PathBuf],
    key: Option<&ChainKey>,
    partial: bool,
) -> Result<Verified, AuditError> {
    let mut out = Verified {
        files: files.iter().map(|p| p.display().to_string()).collect(),
        events: 0,
        first_seq: None,
        head: None,
        broken: None,
    };
    for path in files {
        let name = path.display().to_string();
        let file = std::fs::File::open(path)
            .map_err(|source| AuditError::Io { path: name.clone(), source })?;
        let mut reader = std::io::BufReader::new(file);
        let mut line_no = 0;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let read = reader
                .read_until(b'\n', &mut buf)
                .map_err(|source| AuditError::Io { path: name.clone(), source })?;
            if read == 0 {
                break;
            }
            line_no += 1;
            let mut broken = |message: String| {
                out.broken = Some(Broken { file: name.clone(), line: line_no, message });
            };
            if buf.last() != Some(&b'\n') {
                broken(
                    "incomplete last line (an interrupted write; the file sink cuts it off when \
                     it reopens the log)"
                        .to_owned(),
                );
                return Ok(out);
            }
            let value: Value = match serde_json::from_slice(&buf) {
                Ok(v) => v,
                Err(e) => {
                    broken(format!("not a JSON event: {e}"));
                    return Ok(out);
                }
            };
            let chain: ChainInfo = match value.get("chain").cloned().map(serde_json::from_value) {
                Some(Ok(c)) => c,
                Some(Err(e)) => {
                    broken(format!("`chain` is malformed: {e}"));
                    return Ok(out);
                }
                None => {
                    broken("the event carries no `chain`".to_owned());
                    return Ok(out);
                }
            };
            match &out.head {
                None => {
                    if chain.seq != 0 && !partial {
                        broken(format!(
                            "the log starts at event {} with earlier events missing (use partial \
                             verification if older files were removed on purpose)",
                            chain.seq
                        ));
                        return Ok(out);
                    }
                    if chain.seq == 0 && chain.prev != GENESIS {
                        broken("the first event does not link to the chain's start".to_owned());
                        return Ok(out);
                    }
                }
                Some((seq, hash)) => {
                    if chain.seq != seq + 1 {
                        broken(format!(
                            "event {} follows event {seq}: {}",
                            chain.seq,
                            if chain.seq > seq + 1 {
                                "events are missing"
                            } else {
                                "events are repeated or out of order"
                            }
                        ));
                        return Ok(out);
                    }
                    if &chain.prev != hash {
                        broken(format!(
                            "event {} does not link to the event before it (an event was \
                             inserted, removed or changed)",
                            chain.seq
                        ));
                        return Ok(out);
                    }
                }
            }
            let actual = value_hash(value, key).map_err(|message| AuditError::Corrupt {
                path: name.clone(),
                line: line_no,
                message,
            })?;
            if actual != chain.hash {
                let hint = if key.is_none() && chain.hash.starts_with("hmac-") {
                    " (the log is keyed: verify it with its key)"
                } else {
                    " (the event was edited)"
                };
                broken(format!("event {} does not match its hash{hint}", chain.seq));
                return Ok(out);
            }
            out.first_seq.get_or_insert(chain.seq);
            out.events += 1;
            out.head = Some((chain.seq, chain.hash));
        }
    }
    Ok(out)
}
