//! CSV export of the console's tables (RFC 4180: comma-separated, CRLF line ends, fields with
//! a comma, quote or line break quoted, quotes doubled).
//!
//! Principal names and reasons come from callers and operators; a cell starting with `=`, `+`,
//! `-`, `@`, tab or carriage return would be run as a formula by a spreadsheet, so such a cell
//! is prefixed with `'` (OWASP's advice for CSV injection). Numbers are written raw, never
//! negative, so they are never prefixed.

pub fn field(value: &str) -> String {
    let guarded = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A whole document: the header, then one line per row.
pub fn document(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = String>| {
        out.push_str(&cells.collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    line(&mut header.iter().map(|h| field(h)));
    for r in rows {
        line(&mut r.iter().map(|c| field(c)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_quoting() {
        assert_eq!(field("alice"), "alice");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("-1+2"), "'-1+2");
        assert_eq!(field("1500"), "1500");
    }

    #[test]
    fn documents_end_lines_with_crlf() {
        let d = document(&["name", "n"], &[vec!["a".into(), "1".into()], vec!["b,c".into(), "2".into()]]);
        assert_eq!(d, "name,n\r\na,1\r\n\"b,c\",2\r\n");
    }
}
