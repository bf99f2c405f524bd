//! The characters a user-supplied name may hold. A name reaches CSV key columns (`agency`,
//! `group`, `arm`, ...), CSV headers (factor names), `--set` paths and file and folder names
//! (an experiment's default `output/<name>/`, a fact's `charts/<id>.csv`), so it is kept to
//! characters that need no quoting in any of them: nothing a CSV reader, a shell or a file
//! system treats specially, and nothing that breaks a line. `docs/scenarios.md` ("Names")
//! states the rules; the validators refuse any other name with the file, the field, the value
//! and the allowed set.

/// The longest name (a folder name must stay well within file-system limits).
pub const MAX_NAME: usize = 64;

/// What a name may hold, for error messages.
pub const NAME_RULE: &str =
    "a name of 1 to 64 characters, each an ASCII letter (A-Z, a-z), a digit, '_' or '-'";

/// What a factor name may hold, for error messages.
pub const FACTOR_RULE: &str = "a name of 1 to 128 characters, each an ASCII letter, a digit, '_', '-', '.', '[' or ']' (the characters of a scenario path), not starting with '.'";

/// What a label (a contrast's name) may hold, for error messages.
pub const LABEL_RULE: &str =
    "text of 1 to 200 characters on one line (no line breaks, tabs or other control characters)";

/// Whether `s` is a valid name: 1 to [`MAX_NAME`] characters, each an ASCII letter, digit,
/// `_` or `-`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `s` is a valid factor name (a name, or a scenario path such as
/// `levers.host_reimbursement` or `mechanisms[0].agenda_rule`).
pub fn is_factor_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
}

/// Whether `s` is a valid label: non-empty, at most 200 characters, one line (no control
/// character and no Unicode line or paragraph separator).
pub fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 200
        && !s
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_letters_digits_underscores_and_hyphens() {
        for ok in ["housing", "day_centre", "bp-2", "A1"] {
            assert!(is_name(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a,b",
            "a\"b",
            "a\nb",
            "a\u{2028}b",
            "a/b",
            "..",
            "a.b",
            "é",
            &"x".repeat(65),
        ] {
            assert!(!is_name(bad), "{bad:?}");
        }
        assert!(is_factor_name("mechanisms[0].agenda_rule"));
        assert!(!is_factor_name(".hidden") && !is_factor_name("a,b") && !is_factor_name("a b"));
        assert!(is_label("coordination_index: pooled - none (bp)"));
        assert!(!is_label("a\nb") && !is_label("a\u{2028}b") && !is_label(""));
    }
}
