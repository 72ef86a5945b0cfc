//! A filesystem of the test's own that can be filled to the last byte: a small tmpfs
//! mounted for one test and unmounted when dropped. Mounting needs root (CAP_SYS_ADMIN):
//! the test command runs as root or with sudo (it installs packages); as another user
//! `sudo -n` is tried, and [`SmallDisk::mount`] says why it could not.

use std::{
    fs::File,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

pub struct SmallDisk {
    // Kept for its Drop, which removes the mount point after the unmount.
    _mount_point: tempfile::TempDir,
    path: PathBuf,
}

impl SmallDisk {
    pub fn mount(size_kib: u64) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().to_path_buf();
        // Owned by whoever runs the test, so the relay it starts can write there.
        let (uid, gid) = (id("-u"), id("-g"));
        let out = as_root("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size_kib}k,mode=0700,uid={uid},gid={gid}"))
            .arg("switchboard-test")
            .arg(&path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self {
            _mount_point: dir,
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fills the filesystem with a file until not one more page fits.
    pub fn fill(&self) -> Filler {
        let path = self.path.join("filler");
        let mut file = File::create(&path).expect("filler file");
        let mut written = 0u64;
        for chunk in [1 << 20, 1 << 12] {
            let buf = vec![0xA5u8; chunk];
            while file.write_all(&buf).is_ok() {
                written += chunk as u64;
            }
        }
        // Whatever the last short write left in the buffer is flushed or lost; both fine.
        let _ = file.sync_all();
        Filler { path, written }
    }

    /// Bytes still free, as the filesystem reports them.
    pub fn available(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.path)
            .output()
            .expect("df runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(u64::MAX)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: a relay process that is still being torn down must not keep it mounted.
        let _ = as_root("umount").arg("-l").arg(&self.path).status();
    }
}

fn id(flag: &str) -> String {
    Command::new("id")
        .arg(flag)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// `program` as root: directly when the test runs as root, else through `sudo -n`
/// (never asks for a password).
fn as_root(program: &str) -> Command {
    if id("-u") == "0" {
        Command::new(program)
    } else {
        let mut cmd = Command::new("sudo");
        cmd.args(["-n", program]);
        cmd
    }
}

/// The file that fills the disk; [`Filler::release`] gives the space back.
pub struct Filler {
    path: PathBuf,
    pub written: u64,
}

impl Filler {
    pub fn release(self) {
        std::fs::remove_file(&self.path).expect("filler removed");
    }
}
