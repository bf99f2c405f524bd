//! The commands the README shows are run, and what it quotes is what they print.
//!
//! Every ```console block of README.md is a script: each `$ ` line is run (in a fresh
//! folder holding `scenarios/`, with `silos` on the PATH and `cargo run --release --`
//! meaning `silos`), and the lines quoted after it must appear in its output in that order
//! (other lines may come between: the README quotes excerpts). Times and thread counts are
//! masked. A block that cannot be a script says so in an HTML comment just before it:
//! `<!-- not run: REASON -->`.

use std::path::Path;
use std::process::Command;

struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The console blocks of a page: each a list of commands with their quoted output.
fn blocks(md: &str) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<Step>> = None;
    let mut previous = "";
    for (i, line) in md.lines().enumerate() {
        match &mut current {
            None => {
                if line.trim_end() == "```console" && !previous.contains("<!-- not run") {
                    current = Some(Vec::new());
                }
            }
            Some(steps) => {
                if line.starts_with("```") {
                    out.push(current.take().unwrap());
                } else if let Some(cmd) = line.strip_prefix("$ ") {
                    steps.push(Step {
                        line: i + 1,
                        command: cmd.to_string(),
                        expected: Vec::new(),
                    });
                } else if let Some(last) = steps.last_mut() {
                    last.expected.push(line.to_string());
                }
            }
        }
        if !line.trim().is_empty() {
            previous = line;
        }
    }
    out
}

/// A line with what varies between machines and runs masked: times (`0.09s`, `3.1s`,
/// `29.4 runs/s`) and thread counts.
fn mask(line: &str) -> String {
    let words: Vec<String> = line
        .split(' ')
        .map(|w| {
            let core = w.trim_end_matches([',', ';', ')']);
            let tail = &w[core.len()..];
            let number = |s: &str| !s.is_empty() && s.parse::<f64>().is_ok();
            if let Some(n) = core.strip_suffix('s')
                && number(n)
            {
                return format!("<time>{tail}");
            }
            w.to_string()
        })
        .collect();
    let mut s = words.join(" ");
    for (from, to) in [(" thread(s)", " <n> thread(s)"), (" runs/s", " <n> runs/s")] {
        if let Some(k) = s.find(from) {
            let start = s[..k].rfind(' ').map_or(0, |p| p + 1);
            s = format!("{}{}{}", &s[..start], to.trim_start(), &s[k + from.len()..]);
        }
    }
    s.trim_end().to_string()
}

fn run_page(page: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(repo.join(page)).unwrap();
    let bins = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_silos"), bins.path().join("silos")).unwrap();
    let path = format!(
        "{}:{}",
        bins.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let all = blocks(&md);
    assert!(!all.is_empty(), "{page}: no console block");
    // Blocks run in order in one folder: a later block may read what an earlier one wrote.
    let cwd = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo.join("scenarios"), cwd.path().join("scenarios")).unwrap();
    for steps in all {
        for s in steps {
            let command = s
                .command
                .replace("cargo run --release -- ", "silos ")
                .replace("cargo run --release", "silos");
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("{command} 2>&1"))
                .current_dir(cwd.path())
                .env("PATH", &path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let got: Vec<String> = text.lines().map(mask).collect();
            let mut at = 0;
            for want in s.expected.iter().map(|l| mask(l)) {
                if want.trim().is_empty() || want.trim() == "..." {
                    continue;
                }
                match got[at..].iter().position(|g| *g == want) {
                    Some(k) => at += k + 1,
                    None => panic!(
                        "{page}:{}: `{}` did not print\n  {want}\nin this order; it printed:\n{text}",
                        s.line, s.command
                    ),
                }
            }
        }
    }
}

#[test]
fn masking_hides_times_and_threads_only() {
    assert_eq!(
        mask("silos sweep: 120 runs (120 now, 0 failed) in 3.1s on 2 thread(s); wrote x"),
        "silos sweep: 120 runs (120 now, 0 failed) in <time> on <n> thread(s); wrote x"
    );
    assert_eq!(mask("  wrote out in 0.09s"), "  wrote out in <time>");
    assert_eq!(mask("need met: 25.9% of need"), "need met: 25.9% of need");
}

#[test]
fn the_readme_commands_print_what_it_quotes() {
    run_page("README.md");
}
