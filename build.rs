//! Records which source a binary was built from, for `manifest.json` (`output::build_info`):
//! the git commit, whether the working tree had uncommitted changes and a hash of those
//! changes. Outside a git checkout (a source tarball) all are "unknown".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) if s.is_empty() => "false",
        Some(_) => "true",
        None => "unknown",
    };
    // Uncommitted changes: a hash of the diff, so two builds of one commit with different
    // changes get different build ids (`output::build_info`); "none" for a clean tree.
    let changes = if dirty == "true" {
        match Command::new("git")
            .args(["diff", "HEAD", "--binary"])
            .output()
        {
            Ok(o) if o.status.success() => {
                use std::hash::{Hash, Hasher};
                let mut h = std::hash::DefaultHasher::new();
                o.stdout.hash(&mut h);
                format!("{:016x}", h.finish())
            }
            _ => "unknown".to_string(),
        }
    } else {
        "none".to_string()
    };
    println!("cargo:rustc-env=SILOS_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=SILOS_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=SILOS_GIT_CHANGES={changes}");
    // Rebuild the record when the checked-out commit or the index changes.
    for p in [".git/HEAD", ".git/index"] {
        println!("cargo:rerun-if-changed={p}");
    }
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed=.git/{r}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    // An edit to the sources changes the diff (and the build id).
    println!("cargo:rerun-if-changed=src");
}
