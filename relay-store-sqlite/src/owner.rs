//! One process owns a SQLite store: an exclusive advisory lock on a file beside the database
//! (`relay.db.lock` beside `relay.db`), held for as long as the store is open and released by
//! the operating system when the process dies, however it dies. Since no other process can
//! hold leases on the file, the owner gives back at open every lease left in it (see
//! [`release_leases`](crate::resume::release_leases)).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::SqliteStoreError;

/// The held lock; dropping it (with the store) releases it.
#[derive(Debug)]
pub(crate) struct Owner {
    _file: File,
}

/// The lock file of the database at `db`: its path with `.lock` appended.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of the database at `db`, or names the process holding it.
pub(crate) fn acquire(db: &Path) -> Result<Owner, SqliteStoreError> {
    let path = lock_path(db);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    match try_lock(&file) {
        Ok(true) => {}
        Ok(false) => {
            let mut holder = String::new();
            // The holder's description; empty if it is still being written.
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(SqliteStoreError::InUse {
                path: db.to_path_buf(),
                lock: path,
                holder: if holder.is_empty() {
                    "another process".to_owned()
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(error) => return Err(error.into()),
    }
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(describe_self().as_bytes())?;
    file.flush()?;
    Ok(Owner { _file: file })
}

/// Takes an exclusive `flock` on `file` without waiting: `Ok(false)` when another open file
/// description (another process, or another store in this one) holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Elsewhere the store takes no lock: only Unix-like systems are supported owners.
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

/// What the lock file says about its holder: the process id, its program and its host.
fn describe_self() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown program".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "this host".to_owned());
    format!("pid {} ({program}) on {host}\n", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_owner_is_refused_with_the_holder_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("relay.db");
        let first = acquire(&db).expect("the first owner");
        let refused = acquire(&db).expect_err("a second owner");
        let message = refused.to_string();
        assert!(message.contains(&db.display().to_string()), "{message}");
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        drop(first);
        let again = acquire(&db).expect("free once the first is dropped");
        drop(again);
        assert!(lock_path(&db).ends_with("relay.db.lock"));
    }
}
