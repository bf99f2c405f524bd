//! `silos scenario show`: a scenario as the model reads it, every field written out.
//!
//! The scenario's text, with any `--set` overrides applied, gets every field it leaves out
//! at its documented default (the defaults of `docs/scenarios.md`, through
//! [`crate::params`]). Optional tables that change what a run is (`[population]`,
//! `[localities]`) are never added, and fields whose default depends on something else
//! (an agency's label, its drawn lambda) are left out. `tests/params.rs` checks that the
//! result loads to exactly the scenario the original loads to, so the documented defaults
//! are the code's.

use toml::{Table, Value};

use crate::error::ScenarioError;
use crate::overrides::Override;
use crate::params::{self, Param};
use crate::scenario::Scenario;

/// The resolved scenario as TOML text.
pub fn show(text: &str, file: &str, overrides: &[Override]) -> Result<String, ScenarioError> {
    let mut table = resolve(text, file, overrides)?;
    // Tables in the order of docs/scenarios.md (a TOML table's keys are otherwise sorted);
    // the top-level array `dimensions` first, as TOML requires bare keys before tables.
    let mut body = String::new();
    let order = [
        "dimensions",
        "scenario",
        "model",
        "power",
        "behaviours",
        "search",
        "population",
        "levers",
        "centre",
        "localities",
        "groups",
        "agencies",
        "mechanisms",
    ];
    let keys: Vec<String> = order
        .iter()
        .map(|k| k.to_string())
        .chain(
            table
                .keys()
                .filter(|k| !order.contains(&k.as_str()))
                .cloned(),
        )
        .collect();
    for k in keys {
        let Some(v) = table.remove(&k) else { continue };
        let mut one = Table::new();
        one.insert(k, v);
        let part = toml::to_string(&one).map_err(|e| ScenarioError::Parse {
            file: file.to_string(),
            message: format!("cannot write the resolved scenario: {e}"),
        })?;
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(&part);
    }
    Ok(body)
}

/// The scenario's table with overrides applied and omitted fields at their defaults. The
/// result is checked: it must load.
pub fn resolve(text: &str, file: &str, overrides: &[Override]) -> Result<Table, ScenarioError> {
    // Loading first gives the usual error for a bad scenario or override.
    Scenario::from_toml_str_with(text, file, overrides)?;
    let mut table: Table = toml::from_str(text).map_err(|e| ScenarioError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    for o in overrides {
        crate::overrides::apply(&mut table, o, file)?;
    }
    for p in params::all() {
        let Some(v) = default_value(&p) else { continue };
        fill(&mut table, &p.path, &v);
    }
    let resolved = toml::to_string(&table).map_err(|e| ScenarioError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Scenario::from_toml_str(&resolved, &format!("{file} (resolved)"))?;
    Ok(table)
}

/// A parameter's documented default as a TOML value, when it is one: a number, true/false,
/// a quoted string, an inline table or array, or a bare word among its allowed values.
fn default_value(p: &Param) -> Option<Value> {
    let d = p.default.trim();
    // "0.0 (off)" -> "0.0"
    let d = match d.find(" (") {
        Some(k) if d.ends_with(')') => d[..k].trim(),
        _ => d,
    };
    if let Ok(t) = toml::from_str::<Table>(&format!("v = {d}")) {
        return t.get("v").cloned();
    }
    let word = !d.is_empty() && d.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    (word && d != "none" && d != "required" && p.allowed.contains(d))
        .then(|| Value::String(d.to_string()))
}

/// Set `path` to `v` where the document leaves it out. `a[].b` sets `b` in every element of
/// the array `a`; tables on the way are created, except `[population]` and `[localities]`,
/// whose presence changes the run, and fields of the kind-specific mechanisms settings.
fn fill(root: &mut Table, path: &str, v: &Value) {
    if let Some((array, field)) = path.split_once("[].") {
        if array.contains('.') {
            return; // levers.prices[]: an optional list with no defaults to give
        }
        let Some(Value::Array(items)) = root.get_mut(array) else {
            return;
        };
        for item in items {
            if let Value::Table(t) = item
                && applies(array, field, t)
            {
                t.entry(field.to_string()).or_insert_with(|| v.clone());
            }
        }
        return;
    }
    let parts: Vec<&str> = path.split('.').collect();
    if matches!(parts[0], "population" | "localities") && !root.contains_key(parts[0]) {
        return;
    }
    let mut t = root;
    for part in &parts[..parts.len() - 1] {
        let next = t
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(inner) = next else { return };
        t = inner;
    }
    t.entry(parts[parts.len() - 1].to_string())
        .or_insert_with(|| v.clone());
}

/// Whether a per-item default applies to this item: a mechanism's forum and pooled-fund
/// settings only to mechanisms of that kind.
fn applies(array: &str, field: &str, item: &Table) -> bool {
    if array != "mechanisms" {
        return true;
    }
    let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
    match field {
        "agenda_rule" | "gamma" | "agenda_pull" => kind == "forum",
        "pool_share" => kind == "pooled_fund",
        _ => true,
    }
}
