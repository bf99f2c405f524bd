//! Every scenario parameter and lever with its type, unit, default, allowed range, meaning and
//! source, for `silos params` and the Python package's `silos.parameters()`.
//!
//! The list is read from the field tables of `docs/scenarios.md`, embedded in the binary, so
//! the page people read and the list the tools print are one text and cannot disagree
//! (`tests/params.rs` checks that the list covers the scenario format and that each
//! documented numeric default is accepted by `--set`).

use serde::Serialize;

/// The scenario format's reference page, embedded.
pub const SCENARIOS_MD: &str = include_str!("../docs/scenarios.md");

/// The experiments page (its "Outputs" section describes every file a sweep writes).
pub const EXPERIMENTS_MD: &str = include_str!("../docs/experiments.md");

/// One file a sweep writes, from `docs/experiments.md`'s "Outputs" section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepFile {
    pub file: String,
    /// What one row is.
    pub row: String,
    /// What the file holds.
    pub holds: String,
    /// Its columns and their meaning (the page's paragraph on the file; may be empty).
    pub columns: String,
}

/// Every file a sweep writes, in the page's order.
pub fn sweep_files() -> Vec<SweepFile> {
    parse_sweep_files(EXPERIMENTS_MD)
}

/// The "Outputs" section's file table, and each file's `**`file`**:` paragraph.
pub fn parse_sweep_files(md: &str) -> Vec<SweepFile> {
    let Some(start) = md.find("\n## Outputs") else {
        return Vec::new();
    };
    let section = &md[start + 1..];
    let section = match section[3..].find("\n## ") {
        Some(end) => &section[..end + 3],
        None => section,
    };
    let mut out: Vec<SweepFile> = Vec::new();
    let mut in_table = false;
    for line in section.lines() {
        if line.starts_with("| File |") {
            in_table = true;
            continue;
        }
        if in_table {
            if !line.starts_with('|') {
                in_table = false;
                continue;
            }
            let c = cells(line);
            if c[0].starts_with("---") || c.len() < 3 {
                continue;
            }
            // `a`, `b` in one row: one entry per file.
            for f in c[0].split(", ") {
                out.push(SweepFile {
                    file: plain(f),
                    row: plain(&c[1]),
                    holds: plain(&c[2]),
                    columns: String::new(),
                });
            }
        }
    }
    // Paragraphs starting **`file`**: up to the next blank line before another such
    // paragraph or a heading.
    let mut current: Option<usize> = None;
    for line in section.lines() {
        if let Some(rest) = line.strip_prefix("**`")
            && let Some(end) = rest.find("`**")
        {
            let name = &rest[..end];
            current = out.iter().position(|f| f.file == name);
            if let Some(k) = current {
                let text = rest[end + 3..].trim_start_matches(':').trim();
                out[k].columns = plain(text);
            }
            continue;
        }
        if line.starts_with('#') {
            current = None;
            continue;
        }
        if let Some(k) = current {
            if line.trim().is_empty() {
                if !out[k].columns.ends_with("\n\n") {
                    out[k].columns.push_str("\n\n");
                }
                continue;
            }
            let sep = if out[k].columns.ends_with('\n') || out[k].columns.is_empty() {
                ""
            } else if line.trim_start().starts_with("- ") {
                "\n"
            } else {
                " "
            };
            out[k].columns.push_str(sep);
            out[k].columns.push_str(&plain(line.trim()));
        }
    }
    for f in &mut out {
        f.columns = f.columns.trim().to_string();
    }
    out
}

/// One parameter or lever.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    /// The path `--set` takes for a table field (`model.hop_limit`, `levers.sanctions.fine`,
    /// `behaviours.bp.lambda`); per-item fields of arrays of tables are written
    /// `agencies[].income` (set them as `agencies.NAME.income`).
    pub path: String,
    /// The table as written in the file: `[model]`, `[[agencies]]`, `[behaviours.bp]`.
    pub table: String,
    /// The field's name within its table.
    pub field: String,
    /// Its type: number, whole number, distribution, string, true/false, table, ...
    pub kind: String,
    /// Its unit (empty when it has none).
    pub unit: String,
    /// Its default (`required` when it has none).
    pub default: String,
    /// What values are allowed.
    pub allowed: String,
    /// What it means (or, for a lever, what it changes).
    pub meaning: String,
    /// Source lines in the seed studies (`001:125`), or `assumed`, when the page gives them.
    pub source: String,
}

/// Every parameter, in the order of `docs/scenarios.md`.
pub fn all() -> Vec<Param> {
    parse(SCENARIOS_MD)
}

/// Parse the field tables of a scenarios page: each `## ` section headed by a table name in
/// backticks (`[model]`, `[[agencies]]`, `[behaviours.*]`) contributes the rows of its first
/// table whose header starts with `Field`.
pub fn parse(md: &str) -> Vec<Param> {
    let mut out = Vec::new();
    let mut table: Option<String> = None;
    let mut taken = false;
    let mut header: Option<Vec<String>> = None;
    let changes = lever_changes(md);
    for line in md.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            table = section_table(h);
            taken = false;
            header = None;
            continue;
        }
        let Some(t) = &table else { continue };
        if !line.starts_with('|') {
            if header.is_some() {
                // The end of the section's field table.
                header = None;
                taken = true;
            }
            continue;
        }
        let cells = cells(line);
        if header.is_none() {
            if !taken && cells.first().is_some_and(|c| c == "Field") {
                header = Some(cells);
            }
            continue;
        }
        if cells
            .iter()
            .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue;
        }
        let h = header.as_ref().expect("checked above");
        let get = |name: &str| -> String {
            h.iter()
                .position(|x| x == name)
                .and_then(|k| cells.get(k))
                .map(|c| plain(c))
                .unwrap_or_default()
        };
        let field = plain(&cells[0]);
        let mut meaning = get("Meaning");
        if meaning.is_empty() {
            meaning = get("What it changes");
        }
        if meaning.is_empty() {
            // A lever's "*Changes:*" sentence, under its own name or its table's
            // (`duty_to_cooperate.enforcement` under `duty_to_cooperate`).
            let parent = field.split('.').next().unwrap_or(&field);
            meaning = changes
                .iter()
                .find(|(f, _)| *f == field)
                .or_else(|| changes.iter().find(|(f, _)| f == parent))
                .map(|(_, m)| m.clone())
                .unwrap_or_default();
        }
        let mut source = get("Source");
        if source == "as above" {
            source = out
                .last()
                .map(|p: &Param| p.source.clone())
                .unwrap_or_default();
        }
        if source.is_empty() {
            source = citations(&meaning).unwrap_or_default();
        }
        let row = |table: &str, path: String, default: String| Param {
            path,
            table: table.to_string(),
            field: field.clone(),
            kind: get("Type"),
            unit: get("Unit"),
            default,
            allowed: get("Allowed"),
            meaning: meaning.clone(),
            source: source.clone(),
        };
        if t == "[behaviours.*]" {
            let ra = get("Default in `ra`");
            let bp = get("Default in `bp`");
            let bp = if bp == "the same" { ra.clone() } else { bp };
            out.push(row("[behaviours.ra]", format!("behaviours.ra.{field}"), ra));
            out.push(row("[behaviours.bp]", format!("behaviours.bp.{field}"), bp));
        } else {
            let path = match t.strip_prefix("[[").and_then(|s| s.strip_suffix("]]")) {
                Some(array) => format!("{array}[].{field}"),
                None => format!("{}.{field}", &t[1..t.len() - 1]),
            };
            out.push(row(t, path, get("Default")));
        }
    }
    out
}

/// The table a `## ` heading names: `` `[model]` `` -> `[model]`; none for prose sections.
fn section_table(h: &str) -> Option<String> {
    let t = h.trim().strip_prefix('`')?.strip_suffix('`')?;
    t.starts_with('[').then(|| t.to_string())
}

/// The cells of a Markdown table row, trimmed, with `\|` kept inside cells.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// Markdown cell text as plain text: backticks and links dropped, `—` for nothing emptied.
fn plain(c: &str) -> String {
    let mut s = String::with_capacity(c.len());
    let mut rest = c;
    // [text](target) -> text
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](") else {
            break;
        };
        let Some(close) = rest[open + mid..].find(')') else {
            break;
        };
        s.push_str(&rest[..open]);
        s.push_str(&rest[open + 1..open + mid]);
        rest = &rest[open + mid + close + 1..];
    }
    s.push_str(rest);
    let s = s.replace('`', "").replace("**", "");
    let s = s.trim();
    if s == "—" || s == "-" {
        String::new()
    } else {
        s.to_string()
    }
}

/// Seed-study citations (`001:125`, `002:344-348`) in a text, joined by ", ".
fn citations(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 4 < b.len() {
        let starts = (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b[i..i + 3].iter().all(u8::is_ascii_digit)
            && b[i + 3] == b':'
            && b[i + 4].is_ascii_digit();
        if starts {
            let mut j = i + 4;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'-') {
                j += 1;
            }
            found.push(text[i..j].trim_end_matches('-').to_string());
            i = j;
        } else {
            i += 1;
        }
    }
    (!found.is_empty()).then(|| found.join(", "))
}

/// Each lever's "*Changes:*" sentence from the section "What each lever does", keyed by
/// field.
fn lever_changes(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut para = String::new();
    let flush = |para: &mut String, out: &mut Vec<(String, String)>| {
        let p = std::mem::take(para);
        let Some(rest) = p.strip_prefix("**`") else {
            return;
        };
        let Some(end) = rest.find("`") else { return };
        let field = rest[..end].to_string();
        let text = match p.find("*Changes:*") {
            Some(k) => &p[k + "*Changes:*".len()..],
            None => return,
        };
        let text = text.split("*Costs:*").next().unwrap_or(text);
        let text = plain(text.trim());
        let mut c = text.chars();
        let text = match c.next() {
            Some(first) => first.to_uppercase().chain(c).collect(),
            None => text,
        };
        out.push((field, text));
    };
    for line in md.lines() {
        if line.trim().is_empty() {
            flush(&mut para, &mut out);
        } else {
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(line.trim());
        }
    }
    flush(&mut para, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_split_on_unescaped_bars() {
        assert_eq!(cells("| a | b \\| c | `d` |"), vec!["a", "b | c", "`d`"]);
    }

    #[test]
    fn plain_drops_markup() {
        assert_eq!(
            plain("see [`[model]`](#model) and `x`"),
            "see [model] and x"
        );
        assert_eq!(plain("—"), "");
    }

    #[test]
    fn citations_are_found() {
        assert_eq!(
            citations("pooling (002:342, 002:909-917) and 001:125.").as_deref(),
            Some("002:342, 002:909-917, 001:125")
        );
        assert_eq!(citations("none here 12:3"), None);
    }

    #[test]
    fn a_small_page_parses() {
        let md = "## `[model]`\n\n| Field | Type | Unit | Default | Allowed | Meaning |\n|---|---|---|---|---|---|\n| `x` | number | k GBP | 0.5 | 0 to 1 | An x (001:12). |\n\n| Field | Type |\n|---|---|\n| `ignored` | number |\n\n## `[[agencies]]`\n\n| Field | Type | Default | Allowed | Meaning |\n|---|---|---|---|---|\n| `income` | number | required | 0 or more | Income. |\n\n## Prose\n\n| Field | Type |\n|---|---|\n| `not_a_param` | x |\n";
        let p = parse(md);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].path, "model.x");
        assert_eq!(
            (p[0].unit.as_str(), p[0].default.as_str()),
            ("k GBP", "0.5")
        );
        assert_eq!(p[0].source, "001:12");
        assert_eq!(p[1].path, "agencies[].income");
        assert_eq!(p[1].table, "[[agencies]]");
    }
}
