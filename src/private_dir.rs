//! Directories that hold the user's own files (kept results, the history): created for
//! the user alone, and not used when someone else could have put files in them.

use std::path::Path;

/// Why files in `dir` (when it exists) cannot be trusted to be ours: another user owns it,
/// or anyone may write in it (and so plant or swap an entry). A group that may write is
/// allowed: some systems give each user a group of their own and that umask.
pub fn untrusted_dir(dir: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(dir).ok()?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Some(format!("it belongs to another user (uid {})", meta.uid()));
        }
        if meta.mode() & 0o002 != 0 {
            return Some(format!(
                "anyone may write in it (mode {:o})",
                meta.mode() & 0o7777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    None
}

/// `dir` and its parents, each new one readable by the user alone.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
