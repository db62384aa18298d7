//! Text made safe for SVG and HTML. Titles, queries and markdown come from the config and can
//! hold `<`, `&` and quotes; one escaping function serves element text and attribute values, so
//! no caller has to know which characters matter where.

/// Escapes `& < > " '` and replaces characters XML 1.0 forbids (control characters other than
/// tab, newline and carriage return; U+FFFE, U+FFFF) with U+FFFD, so the document always parses.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters (not bytes) of `text`, the last one an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(xml(r#"<b>"Tom" & 'Jerry'</b>"#), "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
        assert_eq!(xml("&amp;"), "&amp;amp;");
        assert_eq!(xml("plain ü 日本"), "plain ü 日本");
    }

    #[test]
    fn replaces_characters_xml_forbids() {
        assert_eq!(xml("a\u{0}b\u{1b}c\td\u{ffff}"), "a\u{fffd}b\u{fffd}c\td\u{fffd}");
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ääääää", 3), "ää…");
        assert_eq!(truncate("abc", 0), "");
    }
}
