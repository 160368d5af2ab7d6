//! The filesystems the disk-fault tests put the store on: a tmpfs, or an ext4 image on a loop
//! device; each unmounted when dropped, never left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A tmpfs mounted for the test, unmounted on drop.
pub struct Tmpfs {
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`mount -o size=…` syntax) on `path`; `None` when not permitted.
    fn mount(path: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(path).expect("mount point");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        Ok(Self {
            path: path.to_owned(),
        })
    }

    /// `mount -o remount,OPTIONS`.
    pub fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.path)
            .status()
            .expect("mount");
        assert!(status.success(), "mount -o remount,{options} failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        unmount(&self.path);
    }
}

/// Unmounts `path`. A store the test opened on it may still be closing its file on its own
/// threads (`target is busy`), so this retries for a while, then detaches the mount lazily:
/// a test never leaves a mount (or a loop device) behind.
fn unmount(path: &Path) {
    let quiet = |args: &[&std::ffi::OsStr]| {
        Command::new("umount")
            .args(args)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    for _ in 0..50 {
        if quiet(&[path.as_os_str()]) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !quiet(&["-l".as_ref(), path.as_os_str()]) {
        eprintln!("could not unmount {}", path.display());
    }
}

/// A tmpfs of `size` on `path`, or `None` (after saying why) where mounting is refused.
pub fn mounted_or_skip(path: &Path, size: &str) -> Option<Tmpfs> {
    or_skip("mount -t tmpfs", Tmpfs::mount(path, size))
}

pub fn or_skip<T>(what: &str, mounted: Result<T, String>) -> Option<T> {
    match mounted {
        Ok(fs) => Some(fs),
        Err(reason) => {
            assert!(
                std::env::var("RELAY_REQUIRE_MOUNT").as_deref() != Ok("1"),
                "RELAY_REQUIRE_MOUNT=1 but `{what}` is refused: {reason}"
            );
            println!("SKIPPED: disk fault test needs `{what}` (root): {reason}");
            None
        }
    }
}

fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<std::process::Output, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// An ext4 filesystem in an image file, loop-mounted with `errors=remount-ro`; unmounted
/// (and its loop device freed) on drop.
pub struct Ext4Image {
    image: PathBuf,
    /// Where it is mounted.
    pub path: PathBuf,
}

impl Ext4Image {
    /// Creates a 64 MiB image in `dir` and mounts it on `dir/ext4`.
    pub fn create(dir: &Path) -> Result<Self, String> {
        let image = dir.join("disk.img");
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(64 << 20))
            .map_err(|e| e.to_string())?;
        run(
            "mkfs.ext4",
            &["-q".as_ref(), "-F".as_ref(), image.as_os_str()],
        )?;
        let fs = Self {
            image,
            path: dir.join("ext4"),
        };
        std::fs::create_dir_all(&fs.path).map_err(|e| e.to_string())?;
        fs.mount()?;
        let trigger = fs.trigger()?;
        if !trigger.exists() {
            return Err(format!("{} does not exist", trigger.display()));
        }
        Ok(fs)
    }

    fn mount(&self) -> Result<(), String> {
        let options = "loop,errors=remount-ro".as_ref();
        run(
            "mount",
            &[
                "-o".as_ref(),
                options,
                self.image.as_os_str(),
                self.path.as_os_str(),
            ],
        )
        .map(drop)
    }

    /// `/sys/fs/ext4/<loop device>/trigger_fs_error`.
    fn trigger(&self) -> Result<PathBuf, String> {
        let args = [
            "-n".as_ref(),
            "-o".as_ref(),
            "SOURCE".as_ref(),
            self.path.as_os_str(),
        ];
        let source = run("findmnt", &args)?;
        let device = String::from_utf8_lossy(&source.stdout).trim().to_owned();
        let name = device.rsplit('/').next().unwrap_or_default().to_owned();
        Ok(PathBuf::from(format!(
            "/sys/fs/ext4/{name}/trigger_fs_error"
        )))
    }

    /// What a failing disk does: ext4 records an error and turns read-only at once.
    pub fn fail(&self) {
        let trigger = self.trigger().expect("the loop device");
        std::fs::write(trigger, "relay disk fault test").expect("trigger an ext4 error");
    }

    /// Unmounts, repairs with `e2fsck` and mounts again, writable.
    pub fn repair(&self) {
        run("umount", &[self.path.as_os_str()]).expect("umount");
        // e2fsck exits 1 when it corrected something: fine.
        let status = Command::new("e2fsck")
            .args(["-f", "-y"])
            .arg(&self.image)
            .status()
            .expect("e2fsck");
        assert!(matches!(status.code(), Some(0 | 1)), "e2fsck: {status}");
        self.mount().expect("mount again");
    }
}

impl Drop for Ext4Image {
    fn drop(&mut self) {
        unmount(&self.path);
    }
}
