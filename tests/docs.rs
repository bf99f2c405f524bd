//! The commands the docs show are run, and what they quote is what the commands print.
//!
//! Every ```console block of README.md, docs/experiments.md, docs/scaling.md and
//! docs/teaching.md is a script (the other pages show no shell commands; docs/python.md's
//! Python blocks are run by python/tests/test_docs.py): each `$ ` line
//! is run (in a fresh folder holding `scenarios/` and `tests/`, with `silos` on the PATH,
//! `cargo run --release --` meaning `silos`, and `/tmp/` a folder of its own), and the lines
//! quoted after it must appear in its output in that order (other lines may come between:
//! the docs quote excerpts; `...` marks a cut). Times and thread counts are masked. A fenced
//! block just after `<!-- file: PATH -->` is written to PATH first (an experiment file the
//! page shows); a block that cannot be a script says why just before it:
//! `<!-- not run: REASON -->`. `SILOS_DOCS_BLESS=1 cargo test --release --test docs` rewrites the
//! quoted numbers after a change that moves them.

use std::path::Path;
use std::process::Command;

struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
    /// A command from a ```sh block: it quotes no output, but must exit 0.
    must_succeed: bool,
}

/// What a page asks the test to do, in page order.
enum Item {
    /// A ```console block: commands and their quoted output.
    Console(Vec<Step>),
    /// A fenced block marked `<!-- file: PATH -->`: write it before the blocks after it.
    File(String, String),
}

/// The console blocks and marked file blocks of a page.
fn items(md: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut console: Option<Vec<Step>> = None;
    let mut file: Option<(String, String)> = None;
    let mut shell: Option<Vec<Step>> = None;
    let mut previous = "";
    for (i, line) in md.lines().enumerate() {
        if let Some(steps) = &mut shell {
            if line.starts_with("```") {
                out.push(Item::Console(shell.take().unwrap()));
            } else if let Some(last) = steps.last_mut().filter(|l| l.command.ends_with('\\')) {
                last.command.pop();
                last.command.push_str(line.trim());
            } else if !line.trim().is_empty() {
                steps.push(Step {
                    line: i + 1,
                    command: line.to_string(),
                    expected: Vec::new(),
                    must_succeed: true,
                });
            }
        } else if let Some((_, text)) = &mut file {
            if line.starts_with("```") {
                let (p, t) = file.take().unwrap();
                out.push(Item::File(p, t));
            } else {
                text.push_str(line);
                text.push('\n');
            }
        } else if let Some(steps) = &mut console {
            if line.starts_with("```") {
                out.push(Item::Console(console.take().unwrap()));
            } else if let Some(cmd) = line.strip_prefix("$ ") {
                steps.push(Step {
                    line: i + 1,
                    command: cmd.to_string(),
                    expected: Vec::new(),
                    must_succeed: false,
                });
            } else if let Some(last) = steps.last_mut() {
                last.expected.push(line.to_string());
            }
        } else if line.starts_with("```") {
            let marked = previous
                .trim()
                .strip_prefix("<!-- file: ")
                .and_then(|r| r.strip_suffix(" -->"));
            if let Some(path) = marked {
                file = Some((path.to_string(), String::new()));
            } else if line.trim_end() == "```console" && !previous.contains("<!-- not run") {
                console = Some(Vec::new());
            } else if matches!(line.trim_end(), "```sh" | "```bash")
                && !previous.contains("<!-- not run")
            {
                shell = Some(Vec::new());
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
    // Runs of spaces and tabs count as one space (`ls -C` pads with tabs).
    let words: Vec<String> = line
        .split_whitespace()
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

/// The same line with every number replaced, to pair a quoted line with the line that
/// replaced it when the docs are regenerated.
fn skeleton(line: &str) -> String {
    let mut out = String::new();
    let mut in_num = false;
    for c in line.chars() {
        let numeric = c.is_ascii_digit() || (in_num && matches!(c, '.' | 'e' | '-' | '+'));
        if numeric {
            if !in_num {
                out.push('#');
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(c);
        }
    }
    out
}

/// Run a page's console blocks in one fresh folder. With `SILOS_DOCS_BLESS=1` the page is
/// rewritten instead of failing: each quoted line that no longer appears is replaced by the
/// next output line of the same shape (the same text with other numbers).
fn run_page(page: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(repo.join(page)).unwrap();
    let bless = std::env::var("SILOS_DOCS_BLESS").is_ok_and(|v| v == "1");
    let mut lines: Vec<String> = md.lines().map(String::from).collect();
    let bins = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_silos"), bins.path().join("silos")).unwrap();
    let path = format!(
        "{}:{}",
        bins.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let all = items(&md);
    assert!(
        all.iter().any(|i| matches!(i, Item::Console(_))),
        "{page}: no console or shell block"
    );
    // Blocks run in order in one folder: a later block may read what an earlier one wrote.
    let cwd = tempfile::tempdir().unwrap();
    for d in ["scenarios", "tests"] {
        std::os::unix::fs::symlink(repo.join(d), cwd.path().join(d)).unwrap();
    }
    std::fs::create_dir(cwd.path().join("tmp")).unwrap();
    let mut failures = Vec::new();
    let mut here: std::path::PathBuf = cwd.path().to_path_buf();
    for item in all {
        let steps = match item {
            Item::File(p, text) => {
                let dest = cwd.path().join(&p);
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::write(dest, text).unwrap();
                continue;
            }
            Item::Console(steps) => steps,
        };
        // A file the block shows with `cat` and that no earlier block wrote is the file's
        // definition: write it first.
        for s in &steps {
            if let Some(f) = s.command.strip_prefix("cat ")
                && !f.contains(' ')
                && !cwd.path().join(f).exists()
                && !f.starts_with("output/")
                && !steps.iter().any(|e| {
                    // A file a command of the block writes first (`--out DIR`).
                    Path::new(f)
                        .parent()
                        .and_then(|d| d.to_str())
                        .is_some_and(|d| !d.is_empty() && e.command.contains(&format!("--out {d}")))
                })
            {
                let dest = cwd.path().join(f);
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::write(dest, s.expected.join("\n") + "\n").unwrap();
            }
        }
        // One shell per block, so that `cd` carries to the next command; each command's
        // output follows a marker line.
        let mut script = String::from("exec 2>&1\n");
        for (k, s) in steps.iter().enumerate() {
            let command = s
                .command
                .replace("cargo run --release -- ", "silos ")
                .replace("cargo run --release", "silos")
                .replace("/tmp/", "tmp/");
            if s.must_succeed {
                script.push_str(&format!(
                    "echo '@@step {k}'\n{command} || echo \"@@failed with status $?\"\n"
                ));
            } else {
                script.push_str(&format!("echo '@@step {k}'\n{command}\n"));
            }
        }
        // The reader's shell goes on from block to block: a `cd` carries to the next one.
        script.push_str("echo \"@@cwd $(pwd)\"\n");
        let out = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(&here)
            .env("PATH", &path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut outputs: Vec<Vec<String>> = vec![Vec::new(); steps.len()];
        let mut k = None;
        for l in text.lines() {
            if let Some(dir) = l.strip_prefix("@@cwd ") {
                here = dir.into();
                k = None;
            } else if let Some(n) = l.strip_prefix("@@step ") {
                k = n.parse::<usize>().ok();
            } else if let Some(k) = k {
                outputs[k].push(l.to_string());
            }
        }
        for (s, got_raw) in steps.iter().zip(&outputs) {
            if s.must_succeed && got_raw.iter().any(|l| l.starts_with("@@failed")) {
                failures.push(format!(
                    "{page}:{}: `{}` failed; it printed:\n{}",
                    s.line,
                    s.command,
                    got_raw.join("\n")
                ));
            }
            let got: Vec<String> = got_raw.iter().map(|l| mask(l)).collect();
            let mut at = 0;
            for (j, want_raw) in s.expected.iter().enumerate() {
                let want = mask(&want_raw.replace("/tmp/", "tmp/"));
                // `...` marks a cut; a bare `$` is the prompt after a command that prints
                // nothing.
                if want.trim().is_empty() || want.trim() == "..." || want.trim() == "$" {
                    continue;
                }
                if let Some(k) = got[at..].iter().position(|g| *g == want) {
                    at += k + 1;
                    continue;
                }
                let shape = skeleton(&want);
                let similar = got[at..].iter().position(|g| skeleton(g) == shape);
                match (bless, similar) {
                    (true, Some(k)) => {
                        // The quoted line sits at line s.line + j (1-based) of the page.
                        lines[s.line + j] = got_raw[at + k].replace("tmp/", "/tmp/");
                        at += k + 1;
                    }
                    _ => failures.push(format!(
                        "{page}:{}: `{}` did not print\n  {want}\nin this order; it printed:\n{}",
                        s.line + j + 1,
                        s.command,
                        got_raw.join("\n")
                    )),
                }
            }
        }
    }
    if bless {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(repo.join(page), text).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn masking_hides_times_and_threads_only() {
    assert_eq!(
        mask("silos sweep: 120 runs (120 now, 0 failed) in 3.1s on 2 thread(s); wrote x"),
        "silos sweep: 120 runs (120 now, 0 failed) in <time> on <n> thread(s); wrote x"
    );
    assert_eq!(mask("  wrote out in 0.09s"), "wrote out in <time>");
    assert_eq!(mask("a.csv\t  b.csv"), "a.csv b.csv");
    assert_eq!(mask("need met: 25.9% of need"), "need met: 25.9% of need");
}

#[test]
fn the_readme_commands_print_what_it_quotes() {
    run_page("README.md");
}

#[test]
fn the_experiments_page_commands_print_what_it_quotes() {
    run_page("docs/experiments.md");
}

#[test]
fn the_scaling_page_commands_print_what_it_quotes() {
    run_page("docs/scaling.md");
}

#[test]
fn the_teaching_page_commands_print_what_it_quotes() {
    run_page("docs/teaching.md");
}

#[test]
fn the_scenarios_page_commands_succeed() {
    run_page("docs/scenarios.md");
}

/// Every page with shell commands is run by a test above, and every block the test skips
/// says why (`<!-- not run: REASON -->`, with a reason).
#[test]
fn every_page_with_commands_is_run_and_every_skip_says_why() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tested = [
        "README.md",
        "docs/experiments.md",
        "docs/scaling.md",
        "docs/teaching.md",
        "docs/scenarios.md",
    ];
    let mut pages = vec!["README.md".to_string()];
    for e in std::fs::read_dir(repo.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(format!("docs/{}", p.file_name().unwrap().to_string_lossy()));
        }
    }
    for p in pages {
        let md = std::fs::read_to_string(repo.join(&p)).unwrap();
        let shell = md
            .lines()
            .any(|l| matches!(l.trim(), "```console" | "```sh" | "```bash"));
        // docs/python.md's blocks are run by python/tests/test_docs.py.
        if shell && p != "docs/python.md" {
            assert!(
                tested.contains(&p.as_str()),
                "{p} shows commands no test runs"
            );
        }
        for (i, l) in md.lines().enumerate() {
            if let Some(r) = l.trim().strip_prefix("<!-- not run") {
                let reason = r.trim_start_matches(':').trim_end_matches("-->").trim();
                assert!(
                    reason.len() > 10,
                    "{p}:{}: a skipped block gives no reason",
                    i + 1
                );
            }
        }
    }
}
