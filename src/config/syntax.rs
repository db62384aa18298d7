//! The checks a config file passes before serde maps it onto [`super::Config`]: plain UTF-8
//! text, no control characters, no tab indentation, no YAML tags, no key given twice at any
//! depth. serde alone reports these late or not at all (a `!Ref` is silently dropped, a
//! duplicate `tags` entry silently replaces the first), so they are caught here, each naming
//! the line and, where there is one, the key.

use serde_norway::Value;

use super::load::line_of_key;
use super::values::{key_segment, shorten};

/// A problem found before the values are looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxProblem {
    /// Not YAML the config accepts; `line` when it is known.
    Text { line: Option<usize>, message: String },
    /// A tagged value (`!Ref x`) under `key`.
    Tagged { key: String, tag: String },
}

/// The text of a config file, or where it stops being UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, SyntaxProblem> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        SyntaxProblem::Text {
            line: Some(bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1),
            message: format!("the file is not UTF-8 at byte {at}; save it as UTF-8 text"),
        }
    })
}

/// Every check of this module, in the order a reader would hit the problems.
pub fn check(text: &str) -> Result<(), SyntaxProblem> {
    control_characters(text)?;
    let value: Value = serde_norway::from_str(text).map_err(|e| parse_failure(text, &e))?;
    tags(&value, &mut String::new())
}

/// YAML allows tab, line feed and carriage return; libyaml reports other control characters at
/// the start of the document, so the line is found here.
fn control_characters(text: &str) -> Result<(), SyntaxProblem> {
    let bad = |c: char| (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}')) || matches!(c, '\u{FFFE}' | '\u{FFFF}');
    match text.char_indices().find(|(_, c)| bad(*c)) {
        None => Ok(()),
        Some((at, c)) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(SyntaxProblem::Text {
                line: Some(line),
                message: format!("control character U+{:04X} at column {column}; a config file is plain text (write it as an escape such as \"\\t\" inside a quoted string if you need it)", c as u32),
            })
        }
    }
}

fn parse_failure(text: &str, e: &serde_norway::Error) -> SyntaxProblem {
    let raw = e.to_string();
    if let Some((path, rest)) = duplicate_parts(&raw) {
        let key = rest.trim_matches('"').to_owned();
        let full = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        let lines = line_of_key(text, path, &key);
        let (line, first) = match lines.as_slice() {
            [first, second, ..] => (Some(*second), format!(" (first on line {first})")),
            _ => (e.location().map(|l| l.line()), String::new()),
        };
        return SyntaxProblem::Text { line, message: format!("`{}` is given twice{first}; each key may appear once in its mapping", shorten(&full)) };
    }
    let error_line = e.location().map(|l| l.line());
    let tab = text.lines().enumerate().find(|(i, l)| {
        let indent: String = l.chars().take_while(|c| c.is_whitespace()).collect();
        indent.contains('\t') && !l.trim().is_empty() && error_line.is_none_or(|el| i + 1 <= el)
    });
    if let Some((i, _)) = tab {
        return SyntaxProblem::Text { line: Some(i + 1), message: "indented with a tab; YAML indents with spaces only".into() };
    }
    SyntaxProblem::Text { line: error_line, message: humanize(&raw) }
}

/// `("tags", "\"a\"")` out of `tags: duplicate entry with key "a" at line 2 column 3`.
fn duplicate_parts(raw: &str) -> Option<(&str, &str)> {
    let at = raw.find("duplicate entry with key ")?;
    let path = raw[..at].trim_end().trim_end_matches(':');
    let rest = &raw[at + "duplicate entry with key ".len()..];
    let rest = rest.rsplit_once(" at line ").map_or(rest, |(r, _)| r);
    Some((path, rest))
}

fn tags(v: &Value, path: &mut String) -> Result<(), SyntaxProblem> {
    match v {
        Value::Tagged(t) => Err(SyntaxProblem::Tagged { key: if path.is_empty() { "(the whole file)".into() } else { path.clone() }, tag: t.tag.to_string() }),
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                tags(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Mapping(m) => {
            for (k, item) in m {
                let len = path.len();
                let name = match k {
                    Value::String(s) => key_segment(s),
                    Value::Tagged(t) => return Err(SyntaxProblem::Tagged { key: format!("{path} (a key)"), tag: t.tag.to_string() }),
                    other => serde_norway::to_string(other).unwrap_or_default().trim().to_owned(),
                };
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&name);
                tags(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// serde's wording without Rust type names, and with long values shortened: `expected u64`
/// becomes `expected a whole number`, `expected struct Logging` `expected a mapping`.
pub fn humanize(raw: &str) -> String {
    let msg = raw.rsplit_once(" at line ").filter(|(_, pos)| pos.contains(" column ")).map_or(raw, |(m, _)| m);
    let mut out = shorten_quoted(msg);
    for (from, to) in [
        // Integers beyond 64 bits, from the pre-pass's untyped parse.
        (" as u128, expected any YAML value", " is too large for any setting (at most 18446744073709551615)"),
        (" as i128, expected any YAML value", " is too small for any setting"),
        ("invalid type: map", "invalid type: a mapping"),
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: floating point", "invalid type: the number"),
        ("invalid type: integer", "invalid type: the number"),
        ("invalid value: integer", "invalid value: the number"),
        ("invalid type: unit value", "invalid type: an empty value"),
        ("expected a sequence", "expected a list"),
        ("expected a YAML mapping", "expected a mapping"),
        ("expected a borrowed string", "expected text"),
        ("expected a string", "expected text"),
    ] {
        out = out.replace(from, to);
    }
    if let Some(at) = out.find("expected struct ") {
        let end = out[at + 16..].find(|c: char| !c.is_alphanumeric()).map_or(out.len(), |e| at + 16 + e);
        out.replace_range(at..end, "expected a mapping");
    }
    for ty in ["u128", "u64", "u32", "u16", "u8", "usize", "i128", "i64", "i32", "i16", "i8", "isize"] {
        out = replace_word(&out, &format!("expected {ty}"), "expected a whole number (no fraction, sign or unit)");
    }
    for ty in ["f64", "f32"] {
        out = replace_word(&out, &format!("expected {ty}"), "expected a number");
    }
    out = replace_word(&out, "expected a map", "expected a mapping");
    out = out.replace("expected a boolean", "expected true or false");
    out
}

/// Replaces `from` where it is not followed by more of a word (`u8` must not match `u8x`).
fn replace_word(s: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_alphanumeric()) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Shortens every quoted (`"..."`) or back-ticked value in a message, so that an error about a
/// multi-megabyte string stays a line.
fn shorten_quoted(msg: &str) -> String {
    let mut out = String::new();
    let mut chars = msg.char_indices().peekable();
    let mut last = 0;
    while let Some((i, c)) = chars.next() {
        if c != '"' && c != '`' {
            continue;
        }
        let mut end = None;
        let mut escaped = false;
        for (j, d) in chars.by_ref() {
            if escaped {
                escaped = false;
            } else if d == '\\' && c == '"' {
                escaped = true;
            } else if d == c {
                end = Some(j);
                break;
            }
        }
        let Some(end) = end else { break };
        out.push_str(&msg[last..=i]);
        out.push_str(&shorten(&msg[i + 1..end]));
        out.push(c);
        last = end + 1;
    }
    out.push_str(&msg[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_problem(t: &str) -> (Option<usize>, String) {
        match check(t) {
            Err(SyntaxProblem::Text { line, message }) => (line, message),
            other => panic!("{t:?}: {other:?}"),
        }
    }

    #[test]
    fn duplicates_at_any_depth_name_the_second_line() {
        let (line, msg) = text_problem("project: a\nproject: b\n");
        assert_eq!(line, Some(2), "{msg}");
        assert!(msg.contains("`project` is given twice (first on line 1)"), "{msg}");
        let (line, msg) = text_problem("tags:\n  Team: a\n  Env: b\n  Team: c\n");
        assert_eq!(line, Some(4), "{msg}");
        assert!(msg.contains("`tags.Team`"), "{msg}");
        let (line, msg) = text_problem("pricing:\n  models:\n    a.b-v1:0: {input: 1, output: 1}\n    a.b-v1:0: {input: 2, output: 2}\n");
        assert_eq!(line, Some(4), "{msg}");
        assert!(msg.contains("pricing.models"), "{msg}");
    }

    #[test]
    fn tabs_nul_and_encoding_are_located() {
        assert_eq!(text_problem("logging:\n\tretention_days: 30\n").0, Some(2));
        let (line, msg) = text_problem("project: a\nstack_name: b\0c\n");
        assert_eq!(line, Some(2));
        assert!(msg.contains("U+0000 at column 14"), "{msg}");
        let bytes = b"project: a\nstack_name: \xff\n";
        match decode(bytes) {
            Err(SyntaxProblem::Text { line, message }) => {
                assert_eq!(line, Some(2));
                assert!(message.contains("not UTF-8 at byte 23"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tags_are_rejected_naming_the_key() {
        assert_eq!(check("stack_name: !Ref Name\n"), Err(SyntaxProblem::Tagged { key: "stack_name".into(), tag: "!Ref".into() }));
        assert_eq!(check("alerts:\n  emails:\n    - ok@example.com\n    - !Sub '${x}@example.com'\n"), Err(SyntaxProblem::Tagged { key: "alerts.emails[1]".into(), tag: "!Sub".into() }));
        assert!(check("tags:\n  Team: \"!Ref is fine as text\"\n").is_ok());
    }

    #[test]
    fn type_names_become_words() {
        assert_eq!(humanize("logging: invalid type: integer `3`, expected struct Logging at line 1 column 10"), "logging: invalid type: the number `3`, expected a mapping");
        assert_eq!(humanize("x: invalid type: floating point `1.5`, expected u64"), "x: invalid type: the number `1.5`, expected a whole number (no fraction, sign or unit)");
        assert_eq!(humanize("invalid value: integer `-1`, expected u128"), "invalid value: the number `-1`, expected a whole number (no fraction, sign or unit)");
        assert_eq!(humanize("invalid type: string \"abc\", expected f64"), "invalid type: string \"abc\", expected a number");
        assert_eq!(humanize("tags: invalid type: sequence, expected a map"), "tags: invalid type: a list, expected a mapping");
        assert_eq!(humanize("x: expected a mapping"), "x: expected a mapping");
        assert_eq!(
            humanize("a.b: invalid type: integer `99999999999999999999999` as u128, expected any YAML value at line 3 column 22"),
            "a.b: invalid type: the number `99999999999999999999999` is too large for any setting (at most 18446744073709551615)"
        );
        let long = format!("invalid type: string \"{}\", expected f64", "a".repeat(5000));
        let short = humanize(&long);
        assert!(short.len() < 200 && short.contains("(5000 characters)"), "{short}");
    }
}
