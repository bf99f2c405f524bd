//! Parquet copies of a sweep's tables (feature `parquet`, `[outputs] formats`).
//!
//! The CSVs stay the sweep's record: resume and merge read and write only them. When a sweep
//! (or a merge) has finished its CSVs, each `NAME.csv` of `SWEEP_FILES` is converted to
//! `NAME.parquet` beside it, so the Parquet files of a resumed or merged sweep are those of
//! its final CSVs. Columns are typed by file and name (`column_kinds`): `run_id` and `seed`
//! UInt64; `point`, `replicate`, `tick`, `n`, `n_pairs`, `locality` Int64; names (`arm`,
//! `reference`, `observable`, `agency`, `sender`, `receiver`, `group`, `error`) Utf8; factor
//! columns Int64, Float64, Boolean or Utf8 as every value in `points.csv` allows; every other
//! column Float64. `NA` (and an empty field) is null in a numeric column. Snappy compression;
//! each file is written through `AtomicFile`.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::exec::{SWEEP_FILES, SweepError};
use super::experiment::Experiment;
use crate::output::AtomicFile;

/// Rows per record batch (and at most per row group's batch): memory stays bounded however
/// long `summary.csv` is.
const BATCH: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    U64,
    I64,
    F64,
    Bool,
    Str,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::U64 => DataType::UInt64,
            Kind::I64 => DataType::Int64,
            Kind::F64 => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Str => DataType::Utf8,
        }
    }
}

/// The type of a fixed (non-factor) column, by name.
fn fixed_kind(name: &str) -> Kind {
    match name {
        "run_id" | "seed" => Kind::U64,
        "point" | "replicate" | "tick" | "n" | "n_pairs" | "locality" => Kind::I64,
        "arm" | "reference" | "observable" | "agency" | "sender" | "receiver" | "group"
        | "error" => Kind::Str,
        _ => Kind::F64,
    }
}

fn is_null(v: &str) -> bool {
    v == "NA" || v.is_empty()
}

/// The narrowest kind every non-null value of a factor column fits.
fn infer(values: &[&str]) -> Kind {
    let vals: Vec<&str> = values.iter().copied().filter(|v| !is_null(v)).collect();
    if vals.is_empty() {
        Kind::Str
    } else if vals.iter().all(|v| v.parse::<i64>().is_ok()) {
        Kind::I64
    } else if vals.iter().all(|v| v.parse::<f64>().is_ok()) {
        Kind::F64
    } else if vals.iter().all(|v| *v == "true" || *v == "false") {
        Kind::Bool
    } else {
        Kind::Str
    }
}

fn err(path: &Path, e: impl std::fmt::Display) -> SweepError {
    SweepError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Each factor's column type, from the values in `points.csv`.
fn factor_kinds(dir: &Path, n_factors: usize) -> Result<Vec<Kind>, SweepError> {
    let path = dir.join(SWEEP_FILES[0]);
    let mut rdr = csv::Reader::from_path(&path).map_err(|e| err(&path, e))?;
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); n_factors];
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(&path, e))?;
        for (k, col) in cols.iter_mut().enumerate() {
            col.push(rec.get(k + 1).unwrap_or("").to_string());
        }
    }
    Ok(cols
        .iter()
        .map(|c| infer(&c.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect())
}

/// The column types of one sweep file, given its header.
fn column_kinds(file: &str, header: &[&str], factors: &[Kind]) -> Vec<Kind> {
    // Factor columns sit after `point` in points.csv and after the five identity columns in
    // runs.csv; placed by position, so a factor named like a fixed column keeps its type.
    let first = match file {
        "points.csv" => Some(1),
        "runs.csv" => Some(5),
        _ => None,
    };
    header
        .iter()
        .enumerate()
        .map(|(i, name)| match first {
            Some(f) if i >= f && i < f + factors.len() => factors[i - f],
            _ => fixed_kind(name),
        })
        .collect()
}

enum Col {
    U64(UInt64Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Str(StringBuilder),
}

impl Col {
    fn new(k: Kind) -> Col {
        match k {
            Kind::U64 => Col::U64(UInt64Builder::new()),
            Kind::I64 => Col::I64(Int64Builder::new()),
            Kind::F64 => Col::F64(Float64Builder::new()),
            Kind::Bool => Col::Bool(BooleanBuilder::new()),
            Kind::Str => Col::Str(StringBuilder::new()),
        }
    }

    /// Append one CSV field; `None` if it does not parse as the column's type.
    fn push(&mut self, v: &str) -> Option<()> {
        let null = is_null(v);
        match self {
            Col::U64(b) if null => b.append_null(),
            Col::U64(b) => b.append_value(v.parse().ok()?),
            Col::I64(b) if null => b.append_null(),
            Col::I64(b) => b.append_value(v.parse().ok()?),
            Col::F64(b) if null => b.append_null(),
            Col::F64(b) => b.append_value(v.parse().ok()?),
            Col::Bool(b) if null => b.append_null(),
            Col::Bool(b) => b.append_value(v.parse().ok()?),
            Col::Str(b) => b.append_value(v),
        }
        Some(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Col::U64(b) => Arc::new(b.finish()),
            Col::I64(b) => Arc::new(b.finish()),
            Col::F64(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Str(b) => Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Col::U64(b) => b.len(),
            Col::I64(b) => b.len(),
            Col::F64(b) => b.len(),
            Col::Bool(b) => b.len(),
            Col::Str(b) => b.len(),
        }
    }
}

/// Convert `dir/NAME.csv` to `dir/NAME.parquet` for every file of `SWEEP_FILES`.
pub fn write_all(exp: &Experiment, dir: &Path) -> Result<(), SweepError> {
    let factors = factor_kinds(dir, exp.factor_names.len())?;
    for name in SWEEP_FILES {
        convert(dir, name, &factors)?;
    }
    Ok(())
}

fn convert(dir: &Path, name: &str, factors: &[Kind]) -> Result<(), SweepError> {
    let path = dir.join(name);
    let stem = name.strip_suffix(".csv").unwrap_or(name);
    let out_name = format!("{stem}.parquet");
    let out_path = dir.join(&out_name);
    let mut rdr = csv::Reader::from_path(&path).map_err(|e| err(&path, e))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| err(&path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    let kinds = column_kinds(name, &names, factors);
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .zip(&kinds)
            .map(|(n, k)| Field::new(*n, k.data_type(), true))
            .collect::<Vec<_>>(),
    ));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let file = AtomicFile::create(dir, &out_name).map_err(|e| err(&out_path, e))?;
    let mut w =
        ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| err(&out_path, e))?;
    let mut cols: Vec<Col> = kinds.iter().map(|&k| Col::new(k)).collect();
    let flush = |cols: &mut Vec<Col>, w: &mut ArrowWriter<AtomicFile>| {
        let arrays: Vec<ArrayRef> = cols.iter_mut().map(Col::finish).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| err(&out_path, e))?;
        w.write(&batch).map_err(|e| err(&out_path, e))
    };
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    while rdr.read_record(&mut rec).map_err(|e| err(&path, e))? {
        line += 1;
        for (k, col) in cols.iter_mut().enumerate() {
            let v = rec.get(k).unwrap_or("");
            col.push(v).ok_or_else(|| {
                err(
                    &path,
                    format!(
                        "record {line}, column {}: {v:?} is not a {} (cannot write {out_name})",
                        names[k],
                        kinds[k].data_type()
                    ),
                )
            })?;
        }
        if cols.first().is_some_and(|c| c.len() >= BATCH) {
            flush(&mut cols, &mut w)?;
        }
    }
    if cols.first().is_some_and(|c| c.len() > 0) {
        flush(&mut cols, &mut w)?;
    }
    let file = w.into_inner().map_err(|e| err(&out_path, e))?;
    file.commit().map_err(|e| err(&out_path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_types_are_the_narrowest_that_fit() {
        assert_eq!(infer(&["1", "2", "NA"]), Kind::I64);
        assert_eq!(infer(&["1", "2.5"]), Kind::F64);
        assert_eq!(infer(&["true", "false"]), Kind::Bool);
        assert_eq!(infer(&["need_weighted", "1"]), Kind::Str);
        assert_eq!(infer(&[]), Kind::Str);
    }

    #[test]
    fn factors_are_placed_by_position() {
        let f = [Kind::Str];
        assert_eq!(
            column_kinds(
                "runs.csv",
                &["run_id", "point", "arm", "replicate", "seed", "n", "x"],
                &f
            ),
            vec![
                Kind::U64,
                Kind::I64,
                Kind::Str,
                Kind::I64,
                Kind::U64,
                Kind::Str,
                Kind::F64
            ]
        );
        assert_eq!(
            column_kinds("summary.csv", &["point", "arm", "n", "mean"], &f),
            vec![Kind::I64, Kind::Str, Kind::I64, Kind::F64]
        );
    }
}
