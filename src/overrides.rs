//! `--set path=value`: one syntax to override any scenario field from the command line.
//!
//! A path is a dotted list of keys as written in the scenario file, where an element of an
//! array of tables is named by its `name` field or by its index in brackets:
//!
//! ```text
//! model.hop_limit=2
//! levers.host_reimbursement=0.5
//! agencies.housing_authority.income=650
//! agencies[4].behaviour="bp"        (or agencies[4].behaviour=bp)
//! mechanisms.homelessness_forum.agenda_rule=equal_votes
//! population.shares={ ra = 0.5, bp = 0.5 }
//! ```
//!
//! The value is read as a TOML value (`2`, `0.5`, `true`, `"text"`, `[1, 2]`, `{ a = 1 }`);
//! anything that is not valid TOML is taken as a string. Overrides are applied to the parsed
//! file before validation, so an override is checked exactly like the file itself.

use toml::{Table, Value};

use crate::error::ScenarioError;

/// One `path=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: Value,
    /// The text as given, for messages and manifests.
    pub text: String,
}

impl Override {
    /// Parse `path=value`.
    pub fn parse(s: &str) -> Result<Override, String> {
        let Some((path, value)) = s.split_once('=') else {
            return Err(format!(
                "--set {s:?}: expected path=value, for example model.hop_limit=2"
            ));
        };
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("--set {s:?}: the path before '=' is empty"));
        }
        let raw = value.trim();
        let value = match toml::from_str::<Table>(&format!("v = {raw}")) {
            Ok(mut t) => t
                .remove("v")
                .unwrap_or_else(|| Value::String(raw.to_string())),
            Err(_) => Value::String(raw.to_string()),
        };
        Ok(Override {
            path: path.to_string(),
            value,
            text: s.trim().to_string(),
        })
    }
}

#[derive(Debug)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Result<Vec<Seg<'_>>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return Err("empty segment (two dots in a row?)".to_string());
        }
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        let mut rest = rest;
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else {
                return Err(format!("unclosed '[' in {part:?}"));
            };
            let idx: usize = stripped[..end]
                .parse()
                .map_err(|_| format!("{:?} is not an index", &stripped[..end]))?;
            out.push(Seg::Index(idx));
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("unexpected {rest:?} after ']'"));
        }
    }
    Ok(out)
}

/// Apply one override to a parsed scenario file.
pub fn apply(root: &mut Table, o: &Override, file: &str) -> Result<(), ScenarioError> {
    let fail = |why: String| ScenarioError::Invalid {
        file: format!("{file} (with --set {})", o.text),
        field: o.path.clone(),
        value: o.value.to_string(),
        allowed: why,
    };
    let segs = segments(&o.path).map_err(fail)?;
    let mut doc = Value::Table(std::mem::take(root));
    let result = walk(&mut doc, &segs, &o.value);
    if let Value::Table(t) = doc {
        *root = t;
    }
    result.map_err(fail)
}

/// Walk `segs` from `cur`, creating tables for missing keys, and set the last one to `value`.
fn walk(mut cur: &mut Value, segs: &[Seg<'_>], value: &Value) -> Result<(), String> {
    let mut i = 0;
    while i < segs.len() {
        let last = i + 1 == segs.len();
        match (&segs[i], cur) {
            (Seg::Key(k), Value::Table(t)) => {
                if last {
                    t.insert((*k).to_string(), value.clone());
                    return Ok(());
                }
                let next = t
                    .entry((*k).to_string())
                    .or_insert_with(|| Value::Table(Table::new()));
                // An array of named tables may be addressed by an element's name.
                let named = match (&*next, segs.get(i + 1)) {
                    (Value::Array(arr), Some(Seg::Key(name))) => {
                        let names: Vec<&str> = arr
                            .iter()
                            .filter_map(|v| v.get("name").and_then(|n| n.as_str()))
                            .collect();
                        let Some(pos) = names.iter().position(|n| n == name) else {
                            return Err(format!(
                                "a path through `{k}` naming one of its elements: {} (or {k}[index])",
                                names.join(", ")
                            ));
                        };
                        if i + 2 == segs.len() {
                            return Err(format!(
                                "a field of {k}.{name}, for example {k}.{name}.income"
                            ));
                        }
                        Some(pos)
                    }
                    _ => None,
                };
                cur = match named {
                    Some(pos) => {
                        i += 2;
                        &mut next.as_array_mut().expect("matched an array above")[pos]
                    }
                    None => {
                        i += 1;
                        next
                    }
                };
                continue;
            }
            (Seg::Index(idx), Value::Array(arr)) => {
                let len = arr.len();
                let Some(el) = arr.get_mut(*idx) else {
                    return Err(format!("an index below {len} (the number of elements)"));
                };
                if last {
                    *el = value.clone();
                    return Ok(());
                }
                cur = el;
            }
            (Seg::Index(_), _) => return Err("an index only after an array".to_string()),
            (Seg::Key(k), _) => {
                return Err(format!(
                    "a path through tables (`{k}` is inside a plain value)"
                ));
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values() {
        assert_eq!(Override::parse("a.b=2").unwrap().value, Value::Integer(2));
        assert_eq!(Override::parse("a=0.5").unwrap().value, Value::Float(0.5));
        assert_eq!(
            Override::parse("a=bp").unwrap().value,
            Value::String("bp".into())
        );
        assert_eq!(
            Override::parse("a=\"ra-bounded\"").unwrap().value,
            Value::String("ra-bounded".into())
        );
        assert!(Override::parse("nothing").is_err());
    }
}
