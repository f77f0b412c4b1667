//! Records the commit the binary is built from, for `--version` and
//! `dragoman_build_info`: `DRAGOMAN_COMMIT` when set, else git's `HEAD`,
//! else `unknown`.

use std::process::Command;

/// What `git ARGS` prints, trimmed; `None` without git or a checkout.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|out| out.status.success())?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned()).filter(|s| !s.is_empty())
}

fn main() {
    // a container build has no .git: it passes the commit in
    let commit = std::env::var("DRAGOMAN_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=DRAGOMAN_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=DRAGOMAN_COMMIT");
    // a new commit or checkout changes HEAD (or the ref it names)
    for path in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", path]).filter(|p| std::path::Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
