//! `silos columns` describes every file a run and a sweep write, from the docs the binary
//! embeds; the column lists the docs give are the headers the sweep writes, so the page
//! cannot drift from the files.

mod common;
use common::silos;

#[test]
fn every_sweep_file_is_described_and_its_documented_columns_are_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp.toml");
    std::fs::write(
        &exp,
        "[experiment]\nname = \"cols\"\nscenario = \"default\"\nreplicates = 2\nmaster_seed = 1\nticks = 3\n\n\
         [[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n[[arms]]\nname = \"bp\"\nbehaviour = \"bp\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let r = silos(&[
        "sweep",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let files = silos::params::sweep_files();
    let mut checked = 0;
    for name in silos::sweep::exec::SWEEP_FILES {
        let f = files
            .iter()
            .find(|f| f.file == name)
            .unwrap_or_else(|| panic!("{name} is written by a sweep but not described"));
        assert!(!f.columns.is_empty(), "{name}: no column description");
        let header = std::fs::read_to_string(out.join(name)).unwrap();
        let header = header.lines().next().unwrap().to_string();
        // A description that starts with a plain list of names is the header itself.
        let first = f.columns.lines().next().unwrap();
        let list = first.split(". ").next().unwrap().trim_end_matches('.');
        let names: Vec<&str> = list.split(", ").collect();
        if names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        {
            assert_eq!(
                names.join(","),
                header,
                "{name}: docs/experiments.md lists other columns"
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} headers compared");
    // The CLI prints one file, and refuses a name it does not know.
    let one = silos(&["columns", "effects.csv"]);
    assert!(one.status.success());
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(
        text.starts_with("effects.csv") && text.contains("n_pairs"),
        "{text}"
    );
    let bad = silos(&["columns", "nope.csv"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("runs.csv"));
}
