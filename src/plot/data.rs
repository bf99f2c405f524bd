//! Reading and checking the CSV and JSON files of an output directory.
//!
//! A [`Table`] is read whole and checked up front: required columns present, every value of
//! a numeric column a number or `NA`. Drawing therefore never meets a malformed value, and a
//! malformed file fails before any chart is written. Rows with the wrong number of fields (a
//! file cut short, a stray line) are skipped and listed in [`Table::notes`], as are infinite
//! values (read as missing) and a file that ends without a line end; a file whose every row
//! has the wrong number of fields is an error.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::PlotError;

/// How to read one CSV file.
pub struct Spec<'a> {
    /// Columns that must be present.
    pub required: &'a [&'a str],
    /// Columns kept as text (names, keys).
    pub text: &'a [&'a str],
    /// Every column not in `text` must be numeric. When false, only columns named in
    /// `numeric` must be; other columns are numeric if every value parses, text otherwise.
    pub all_numeric: bool,
    pub numeric: &'a [&'a str],
}

enum Column {
    Text(Vec<String>),
    Num(Vec<f64>),
}

/// A CSV file read into columns.
pub struct Table {
    header: Vec<String>,
    columns: Vec<Column>,
    lines: Vec<u64>,
    /// What was skipped or doubtful in reading, one sentence each naming the file.
    notes: Vec<String>,
}

/// Rows listed one by one in a note, at most.
const NOTE_RUNS: usize = 4;

/// "lines 41-43: 5 fields; line 50: 2 fields" for (line, fields) pairs in line order, runs of
/// consecutive lines with the same count joined.
fn describe_rows(rows: &[(u64, usize)]) -> String {
    let mut runs: Vec<(u64, u64, usize)> = Vec::new();
    for &(line, n) in rows {
        match runs.last_mut() {
            Some(r) if r.1 + 1 == line && r.2 == n => r.1 = line,
            _ => runs.push((line, line, n)),
        }
    }
    let mut parts: Vec<String> = runs
        .iter()
        .take(NOTE_RUNS)
        .map(|&(a, b, n)| {
            let fields = if n == 1 { "field" } else { "fields" };
            if a == b {
                format!("line {a}: {n} {fields}")
            } else {
                format!("lines {a}-{b}: {n} {fields}")
            }
        })
        .collect();
    if runs.len() > NOTE_RUNS {
        let more: u64 = runs[NOTE_RUNS..].iter().map(|r| r.1 - r.0 + 1).sum();
        parts.push(format!("and {more} more"));
    }
    parts.join("; ")
}

/// Whether a non-empty file ends without a line end (cut short mid-line?).
fn ends_mid_line(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] != b'\n'
}

/// Parse a CSV number; `NA`, `NaN` and the empty string are missing (NaN).
pub fn parse_num(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    t.parse::<f64>().ok()
}

impl Table {
    /// Read `path` if it exists (`Ok(None)` if it does not).
    pub fn read_opt(path: &Path, spec: &Spec) -> Result<Option<Table>, PlotError> {
        if !path.exists() {
            return Ok(None);
        }
        Table::read(path, spec).map(Some)
    }

    pub fn read(path: &Path, spec: &Spec) -> Result<Table, PlotError> {
        let expected = || {
            let mut cols: Vec<&str> = spec.required.to_vec();
            cols.push("...");
            cols.join(",")
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_path(path)
            .map_err(|e| csv_error(path, e))?;
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| csv_error(path, e))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if header.is_empty() || header.iter().all(|h| h.is_empty()) {
            return Err(PlotError::Empty {
                path: path.to_path_buf(),
                expected: expected(),
            });
        }
        let missing: Vec<String> = spec
            .required
            .iter()
            .filter(|c| !header.iter().any(|h| h == *c))
            .map(|c| format!("`{c}`"))
            .collect();
        if !missing.is_empty() {
            return Err(PlotError::Header {
                path: path.to_path_buf(),
                missing: missing.join(", "),
                expected: expected(),
                found: header.join(","),
            });
        }
        for (i, h) in header.iter().enumerate() {
            if h.is_empty() || header[..i].contains(h) {
                return Err(PlotError::Header {
                    path: path.to_path_buf(),
                    missing: "none".into(),
                    expected: "distinct, non-empty column names".into(),
                    found: header.join(","),
                });
            }
        }
        // Values are parsed as they are read, so a numeric column holds numbers only (a
        // large ticks.csv costs 8 bytes a value, not a string each).
        let mut columns: Vec<Column> = header
            .iter()
            .map(|h| {
                if spec.text.contains(&h.as_str()) {
                    Column::Text(Vec::new())
                } else {
                    Column::Num(Vec::new())
                }
            })
            .collect();
        let mut lines = Vec::new();
        // Rows with the wrong number of fields: (line, fields).
        let mut ragged: Vec<(u64, usize)> = Vec::new();
        // Infinite values per column: (count, first line).
        let mut infinite: Vec<(usize, u64)> = vec![(0, 0); header.len()];
        for rec in rdr.records() {
            let rec = rec.map_err(|e| csv_error(path, e))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            if rec.len() != header.len() {
                ragged.push((line, rec.len()));
                continue;
            }
            lines.push(line);
            for (c, field) in rec.iter().enumerate() {
                match &mut columns[c] {
                    Column::Text(v) => v.push(field.to_string()),
                    Column::Num(v) => match parse_num(field) {
                        Some(x) if x.is_infinite() => {
                            // "inf" or a number beyond f64 ("1e999"): missing, and noted.
                            let n = &mut infinite[c];
                            if n.0 == 0 {
                                n.1 = line;
                            }
                            n.0 += 1;
                            v.push(f64::NAN);
                        }
                        Some(x) => v.push(x),
                        None => {
                            let name = header[c].as_str();
                            if spec.all_numeric || spec.numeric.contains(&name) {
                                return Err(PlotError::Value {
                                    path: path.to_path_buf(),
                                    line,
                                    column: name.to_string(),
                                    value: field.to_string(),
                                    expected: "a number or NA".into(),
                                });
                            }
                            // Not every value is a number: the column is text.
                            let mut t: Vec<String> = v.iter().map(|&x| fmt_plain(x)).collect();
                            t.push(field.to_string());
                            columns[c] = Column::Text(t);
                        }
                    },
                }
            }
        }
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        if lines.is_empty() && !ragged.is_empty() {
            let (line, len) = ragged[0];
            return Err(PlotError::Malformed {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "expected {} fields like the header, found {len} (no row has {})",
                    header.len(),
                    header.len()
                ),
            });
        }
        let mut notes = Vec::new();
        if !ragged.is_empty() {
            let s = if ragged.len() == 1 { "" } else { "s" };
            notes.push(format!(
                "skipped {} row{s} of {name} ({}; expected {} fields like the header)",
                ragged.len(),
                describe_rows(&ragged),
                header.len()
            ));
        }
        for (c, &(n, first)) in infinite.iter().enumerate() {
            if n > 0 {
                let s = if n == 1 { "" } else { "s" };
                notes.push(format!(
                    "{name}, column `{}`: {n} infinite value{s} (first on line {first}) drawn as missing",
                    header[c]
                ));
            }
        }
        if ends_mid_line(path) {
            let last = lines
                .last()
                .into_iter()
                .chain(ragged.last().map(|r| &r.0))
                .max();
            notes.push(match last {
                Some(l) => format!(
                    "{name} does not end with a line end: the file may be cut short (its last line, {l}, may be incomplete)"
                ),
                None => format!("{name} does not end with a line end: the file may be cut short"),
            });
        }
        Ok(Table {
            header,
            columns,
            lines,
            notes,
        })
    }

    /// What was skipped or doubtful in reading the file (see the module documentation).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// A numeric column, if present and numeric.
    pub fn num(&self, name: &str) -> Option<&[f64]> {
        let i = self.header.iter().position(|h| h == name)?;
        match &self.columns[i] {
            Column::Num(v) => Some(v),
            Column::Text(_) => None,
        }
    }

    /// A column as text (numeric columns are formatted back).
    pub fn text(&self, name: &str) -> Option<Vec<String>> {
        let i = self.header.iter().position(|h| h == name)?;
        Some(match &self.columns[i] {
            Column::Text(v) => v.clone(),
            Column::Num(v) => v.iter().map(|x| fmt_plain(*x)).collect(),
        })
    }

    /// The two breakdowns of a run's cases as one long table, as the charts read them:
    /// `groups.csv`'s rows (with `needs` = `all`), then `needs.csv`'s rows (with `group` =
    /// `all` and `needs` as text). Columns are those of `groups`; a column `needs` lacks is
    /// NA in its rows.
    pub fn stack_breakdowns(groups: Table, needs: Option<Table>) -> Table {
        let n_g = groups.n_rows();
        let mut header = vec!["tick".to_string(), "group".to_string(), "needs".to_string()];
        header.extend(
            groups
                .header
                .iter()
                .filter(|h| !matches!(h.as_str(), "tick" | "group" | "needs"))
                .cloned(),
        );
        let n_n = needs.as_ref().map_or(0, |t| t.n_rows());
        let mut columns = Vec::with_capacity(header.len());
        for h in &header {
            let col = match h.as_str() {
                "group" => {
                    let mut v = groups.text(h).unwrap_or_else(|| vec![String::new(); n_g]);
                    v.extend(std::iter::repeat_n("all".to_string(), n_n));
                    Column::Text(v)
                }
                "needs" => {
                    let mut v = vec!["all".to_string(); n_g];
                    match needs.as_ref().and_then(|t| t.text("needs")) {
                        Some(k) => v.extend(k),
                        None => v.extend(std::iter::repeat_n("NA".to_string(), n_n)),
                    }
                    Column::Text(v)
                }
                _ => {
                    let mut v: Vec<f64> = match groups.num(h) {
                        Some(x) => x.to_vec(),
                        None => vec![f64::NAN; n_g],
                    };
                    match needs.as_ref().and_then(|t| t.num(h)) {
                        Some(x) => v.extend_from_slice(x),
                        None => v.extend(std::iter::repeat_n(f64::NAN, n_n)),
                    }
                    Column::Num(v)
                }
            };
            columns.push(col);
        }
        let mut lines = groups.lines;
        let mut notes = groups.notes;
        if let Some(t) = &needs {
            lines.extend_from_slice(&t.lines);
            notes.extend_from_slice(&t.notes);
        }
        Table {
            header,
            columns,
            lines,
            notes,
        }
    }

    /// A text column by reference (for the declared text columns).
    pub fn text_ref(&self, name: &str) -> Option<&[String]> {
        let i = self.header.iter().position(|h| h == name)?;
        match &self.columns[i] {
            Column::Text(v) => Some(v),
            Column::Num(_) => None,
        }
    }
}

/// Shortest plain form of a number (integers without a decimal point), `NA` for NaN.
pub fn fmt_plain(x: f64) -> String {
    if x.is_nan() {
        "NA".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn csv_error(path: &Path, e: csv::Error) -> PlotError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    match e.into_kind() {
        csv::ErrorKind::Io(source) => PlotError::Read {
            path: path.to_path_buf(),
            source,
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => PlotError::Malformed {
            path: path.to_path_buf(),
            line,
            message: format!("expected {expected_len} fields like the header, found {len}"),
        },
        csv::ErrorKind::Utf8 { .. } => PlotError::Malformed {
            path: path.to_path_buf(),
            line,
            message: "not UTF-8 text".into(),
        },
        other => PlotError::Malformed {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

/// `manifest.json`, read as JSON (any shape), with typed accessors that fail clearly.
pub struct Manifest {
    pub path: PathBuf,
    pub value: Value,
}

impl Manifest {
    pub fn read_opt(path: &Path) -> Result<Option<Manifest>, PlotError> {
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(path).map_err(|source| PlotError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|source| PlotError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        if !value.is_object() {
            return Err(PlotError::Manifest {
                path: path.to_path_buf(),
                field: "(top level)".into(),
                expected: "a JSON object".into(),
            });
        }
        Ok(Some(Manifest {
            path: path.to_path_buf(),
            value,
        }))
    }

    fn bad(&self, field: &str, expected: &str) -> PlotError {
        PlotError::Manifest {
            path: self.path.clone(),
            field: field.into(),
            expected: expected.into(),
        }
    }

    /// A string or number field as text; absent or null is `Ok(None)`.
    pub fn scalar(&self, field: &str) -> Result<Option<String>, PlotError> {
        match self.value.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(self.bad(field, "a string or a number")),
        }
    }

    /// A list-of-strings field; absent or null is `Ok(None)`.
    pub fn strings(&self, field: &str) -> Result<Option<Vec<String>>, PlotError> {
        match self.value.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(self.bad(field, "a list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.bad(field, "a list of strings")),
        }
    }

    /// A nested string field such as `scenario.name`.
    pub fn nested(&self, outer: &str, inner: &str) -> Option<String> {
        match self.value.get(outer)?.get(inner)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Distinct values in order of first appearance.
pub fn distinct<'a>(values: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o == v) {
            out.push(v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_missing() {
        assert_eq!(parse_num("1.5"), Some(1.5));
        assert!(parse_num("NA").unwrap().is_nan());
        assert!(parse_num("").unwrap().is_nan());
        assert_eq!(parse_num("abc"), None);
        assert_eq!(fmt_plain(3.0), "3");
        assert_eq!(fmt_plain(0.25), "0.25");
    }
}
