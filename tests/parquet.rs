//! Parquet beside CSV (`[outputs] formats`, cargo feature `parquet`). With the feature: every
//! sweep table's Parquet file holds the CSV's columns and rows, typed, with `NA` as null, and
//! resumed and merged sweeps end with the Parquet files of their final CSVs. Without it: the
//! experiment is refused with a message that says how to get it.
//! Run with `cargo test --release --features parquet --test parquet` (`.ci/run` does).

mod common;

use silos::sweep::Experiment;

/// The small test experiment (3 points x 2 arms x 4 replicates) with Parquet asked for, and a
/// series so that `series.csv` has rows.
fn text() -> String {
    let base =
        std::fs::read_to_string(common::fixture_path("experiment-small.toml")).expect("fixture");
    base + "\n[outputs]\nformats = [\"csv\", \"parquet\"]\nstatistics = [\"mean\", \"final\"]\nseries = [\"share_need_met\", \"arrivals\"]\n"
}

fn load(text: &str) -> Result<Experiment, silos::sweep::ExperimentError> {
    let file = common::fixture_path("experiment-small.toml");
    Experiment::from_str_in(text, "parquet-test.toml", file.parent().unwrap(), false)
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_is_refused_with_the_way_to_get_it() {
    let e = load(&text()).expect_err("a build without the feature refuses parquet");
    let msg = e.to_string();
    for part in [
        "parquet-test.toml",
        "outputs.formats[1]",
        "\"parquet\"",
        "built without Parquet support",
        "cargo build --release --features parquet",
        "formats = [\"csv\"]",
    ] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
    // CSV alone is fine.
    load(&text().replace("formats = [\"csv\", \"parquet\"]", "formats = [\"csv\"]")).unwrap();
    // `silos sweep` stops with the same message before it runs anything.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture_path("small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    let exp = dir.path().join("e.toml");
    std::fs::write(&exp, text()).unwrap();
    let out = dir.path().join("out");
    let r = common::silos(&[
        "sweep",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("outputs.formats[1]")
            && err.contains("cargo build --release --features parquet"),
        "{err}"
    );
    assert!(!out.join("runs.csv").exists(), "nothing was run");
}

#[test]
fn formats_must_be_known_once_and_include_csv() {
    for (formats, field) in [
        ("[\"csv\", \"feather\"]", "outputs.formats[1]"),
        ("[\"csv\", \"csv\"]", "outputs.formats[1]"),
        ("[\"parquet\"]", "outputs.formats"),
        ("[]", "outputs.formats"),
    ] {
        let t = text().replace("[\"csv\", \"parquet\"]", formats);
        let msg = load(&t).expect_err(formats).to_string();
        // Without the feature, `["parquet"]` is refused for the feature first.
        let field = if cfg!(feature = "parquet") || formats != "[\"parquet\"]" {
            field
        } else {
            "outputs.formats[0]"
        };
        assert!(msg.contains(field), "{formats}: {msg}");
    }
}

#[cfg(feature = "parquet")]
mod with_feature {
    use super::*;

    use std::path::Path;

    use silos::sweep::{SweepOptions, run_sweep};

    use arrow_array::{Array, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array};
    use arrow_schema::DataType;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    const FILES: [&str; 11] = silos::sweep::exec::SWEEP_FILES;

    fn opts(out: &Path) -> SweepOptions {
        SweepOptions {
            out: out.to_path_buf(),
            threads: Some(2),
            shard: None,
            progress: false,
            fail_runs: vec![5],
        }
    }

    fn parquet_path(dir: &Path, csv: &str) -> std::path::PathBuf {
        dir.join(csv.replace(".csv", ".parquet"))
    }

    /// The Parquet file's value at (column, row) written back as the CSV writes it (`NA`
    /// for null), with the column's type.
    fn read_back(path: &Path) -> (Vec<String>, Vec<DataType>, Vec<Vec<String>>) {
        let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let b = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        for rg in b.metadata().row_groups() {
            for c in rg.columns() {
                assert_eq!(c.compression(), parquet::basic::Compression::SNAPPY);
            }
        }
        let schema = b.schema().clone();
        let names = schema.fields().iter().map(|f| f.name().clone()).collect();
        let types = schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut num = String::new();
        for batch in b.build().unwrap() {
            let batch = batch.unwrap();
            for r in 0..batch.num_rows() {
                let mut row = Vec::new();
                for col in batch.columns() {
                    if col.is_null(r) {
                        row.push("NA".to_string());
                        continue;
                    }
                    let any = col.as_any();
                    let v = if let Some(a) = any.downcast_ref::<Int64Array>() {
                        a.value(r).to_string()
                    } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
                        a.value(r).to_string()
                    } else if let Some(a) = any.downcast_ref::<Float64Array>() {
                        silos::output::fmt_num(&mut num, a.value(r));
                        num.clone()
                    } else if let Some(a) = any.downcast_ref::<StringArray>() {
                        a.value(r).to_string()
                    } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
                        a.value(r).to_string()
                    } else {
                        panic!(
                            "{}: unexpected column type {}",
                            path.display(),
                            col.data_type()
                        )
                    };
                    row.push(v);
                }
                rows.push(row);
            }
        }
        (names, types, rows)
    }

    fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
        let mut rdr = csv::Reader::from_path(path).unwrap();
        let header = rdr.headers().unwrap().iter().map(str::to_string).collect();
        let rows = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        (header, rows)
    }

    /// Every Parquet file equals its CSV, column by column and row by row; returns the types.
    fn same_as_csv(dir: &Path) -> std::collections::BTreeMap<(String, String), DataType> {
        let mut types = std::collections::BTreeMap::new();
        for f in FILES {
            let (h, rows) = read_csv(&dir.join(f));
            let (names, ty, prows) = read_back(&parquet_path(dir, f));
            assert_eq!(names, h, "{f}: columns");
            assert_eq!(prows.len(), rows.len(), "{f}: rows");
            for (i, (p, c)) in prows.iter().zip(&rows).enumerate() {
                assert_eq!(p, c, "{f}: row {i}");
            }
            for (n, t) in names.into_iter().zip(ty) {
                types.insert((f.to_string(), n), t);
            }
        }
        types
    }

    #[test]
    fn every_table_has_a_typed_parquet_copy_equal_to_its_csv() {
        let exp = load(&text()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let rep = run_sweep(&exp, &opts(dir.path())).unwrap();
        assert_eq!(rep.failures, 1);
        let types = same_as_csv(dir.path());
        let ty = |f: &str, c: &str| types[&(f.to_string(), c.to_string())].clone();
        assert_eq!(ty("runs.csv", "run_id"), DataType::UInt64);
        assert_eq!(ty("runs.csv", "seed"), DataType::UInt64);
        assert_eq!(ty("runs.csv", "point"), DataType::Int64);
        assert_eq!(ty("runs.csv", "arm"), DataType::Utf8);
        assert_eq!(ty("runs.csv", "reimbursement"), DataType::Float64);
        assert_eq!(ty("points.csv", "reimbursement"), DataType::Float64);
        assert_eq!(ty("runs.csv", "share_need_met_final"), DataType::Float64);
        assert_eq!(ty("summary.csv", "tick"), DataType::Int64);
        assert_eq!(ty("summary.csv", "n"), DataType::Int64);
        assert_eq!(ty("effects.csv", "n_pairs"), DataType::Int64);
        assert_eq!(ty("failures.csv", "error"), DataType::Utf8);
        assert_eq!(ty("series.csv", "arrivals"), DataType::Float64);
        // The comparison saw rows in the files that matter, and nulls where the CSV has NA.
        for f in [
            "runs.csv",
            "summary.csv",
            "paired.csv",
            "series.csv",
            "failures.csv",
        ] {
            assert!(
                !read_csv(&dir.path().join(f)).1.is_empty(),
                "{f} has no rows to compare"
            );
        }
        let summary = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
        assert!(summary.contains(",NA"), "the fixture yields NA somewhere");
        // The manifest of a sweep records the feature.
        let m = silos::sweep::exec::manifest(&exp, "test");
        let features = m["build"]["features"].as_array().unwrap();
        assert!(features.iter().any(|f| f == "parquet"), "{m}");
        assert_eq!(m["formats"], serde_json::json!(["csv", "parquet"]));
        // No temporary files are left behind.
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(!n.contains(".tmp"), "left behind: {n}");
        }
    }

    #[test]
    fn merged_and_resumed_sweeps_end_with_the_parquet_of_their_csvs() {
        let exp = load(&text()).unwrap();
        let whole = tempfile::tempdir().unwrap();
        run_sweep(&exp, &opts(whole.path())).unwrap();
        // Two shards: neither writes Parquet, the merge does, equal byte for byte.
        let shards: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        for (i, d) in shards.iter().enumerate() {
            let o = SweepOptions {
                shard: Some((i, 2)),
                ..opts(d.path())
            };
            let report = run_sweep(&exp, &o).unwrap();
            // Its manifest, as `silos sweep --shard` writes it (a merge reads the builds).
            let m = silos::api::sweep_manifest(&exp, &report, o.shard, "start");
            silos::output::write_atomic(d.path(), "manifest.json", m.to_string().as_bytes())
                .unwrap();
            assert!(!parquet_path(d.path(), "runs.csv").exists());
        }
        let merged = tempfile::tempdir().unwrap();
        let dirs: Vec<std::path::PathBuf> = shards.iter().map(|d| d.path().to_path_buf()).collect();
        silos::sweep::merge::merge(&dirs, merged.path()).unwrap();
        same_as_csv(merged.path());
        for f in FILES {
            let a = std::fs::read(parquet_path(whole.path(), f)).unwrap();
            let b = std::fs::read(parquet_path(merged.path(), f)).unwrap();
            assert!(a == b, "{f}: merged Parquet differs from the single run's");
        }
        // A resumed sweep: point 0 committed by shard 0/3 relabelled as the whole sweep,
        // then resumed; its Parquet files are the uninterrupted sweep's.
        let part = tempfile::tempdir().unwrap();
        run_sweep(
            &exp,
            &SweepOptions {
                shard: Some((0, 3)),
                ..opts(part.path())
            },
        )
        .unwrap();
        let pp = part.path().join("progress.json");
        let mut p: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&pp).unwrap()).unwrap();
        p["shard"] = "all".into();
        p["complete"] = false.into();
        std::fs::write(&pp, serde_json::to_string(&p).unwrap()).unwrap();
        let rep = run_sweep(&exp, &opts(part.path())).unwrap();
        assert_eq!(rep.points_resumed, 1);
        for f in FILES {
            let a = std::fs::read(parquet_path(whole.path(), f)).unwrap();
            let b = std::fs::read(parquet_path(part.path(), f)).unwrap();
            assert!(
                a == b,
                "{f}: resumed Parquet differs from the uninterrupted one"
            );
        }
    }
}
