//! The console's HTML, rendered on the server from typed data: every piece of text goes
//! through one escaper ([`crate::preview::escape::xml`]), every URL parameter through
//! [`enc`]; no script, no inline style (the stylesheet is `/static/console.css`), so the strict
//! Content-Security-Policy holds.

use super::tables::{Cell, Pages, Table};
use crate::preview::escape::xml as esc;
use crate::quotas::admin::status::amount;

pub const STYLESHEET: &str = include_str!("console.css");

/// What every page's frame shows.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub stack: String,
    pub region: String,
    /// False: the stack has no quotas; only usage pages exist.
    pub quotas: bool,
    /// Why there are no quota pages (shown on every page when `quotas` is false).
    pub quota_note: Option<String>,
    /// When the quota tables were read, and how long it took.
    pub read: Option<String>,
}

/// Percent-encodes a query-string component (everything but RFC 3986's unreserved characters).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path?k=v&...` with empty values left out.
pub fn href(path: &str, params: &[(&str, &str)]) -> String {
    let q: Vec<String> = params.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", enc(v))).collect();
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// An already built URL, escaped for an attribute.
pub fn enc_attr(url: &str) -> String {
    esc(url)
}

pub fn principal_href(name: &str) -> String {
    href("/principal", &[("name", name)])
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{} · bedrock-watch</title><link rel=\"stylesheet\" href=\"/static/console.css\"></head>\n",
        esc(title)
    )
}

/// A whole page: navigation, the stack it reads, the note when quotas are absent, `body`.
pub fn layout(title: &str, active: &str, f: &Frame, body: &str) -> String {
    let mut out = head(title);
    out.push_str("<body><header><nav><b>bedrock-watch</b>");
    let mut links = vec![("Users", "/users"), ("Teams", "/teams"), ("Details", "/details")];
    if f.quotas {
        links.push(("Blocking", "/blocking"));
    }
    for (name, path) in links {
        let class = if name == active { " class=\"active\"" } else { "" };
        out.push_str(&format!("<a href=\"{path}\"{class}>{name}</a>"));
    }
    out.push_str(&format!("<span class=\"stack\">stack <code>{}</code> in {}</span></nav></header>\n<main>\n", esc(&f.stack), esc(&f.region)));
    if let Some(n) = &f.quota_note {
        out.push_str(&format!("<p class=\"note\" id=\"no-quotas\">{}</p>\n", esc(n)));
    }
    out.push_str(&format!("<h1>{}</h1>\n", esc(title)));
    out.push_str(body);
    if let Some(r) = &f.read {
        out.push_str(&format!("<footer><p>{} <a href=\"/refresh\">Read again</a></p></footer>", esc(r)));
    }
    out.push_str("</main></body></html>\n");
    out
}

/// A failure, with the same help line the CLI prints.
pub fn error_box(message: &str, help: Option<&str>) -> String {
    let mut out = format!("<div class=\"error\" role=\"alert\"><p><b>error:</b> {}</p>", esc(message));
    if let Some(h) = help {
        out.push_str(&format!("<p><b>help:</b> {}</p>", esc(h)));
    }
    out.push_str("</div>\n");
    out
}

pub fn notice(text: &str) -> String {
    format!("<p class=\"notice\" role=\"status\">{}</p>\n", esc(text))
}

fn cell(c: &Cell, t: &Table) -> String {
    match c {
        Cell::Text(s) => esc(s),
        Cell::Amount(None) => "no limit".into(),
        Cell::Amount(Some(v)) => esc(&amount(*v, t.unit)),
        Cell::Principal(p) => format!("<a href=\"{}\">{}</a>", esc(&principal_href(p)), esc(p)),
        Cell::Principals(ps) => ps.iter().map(|p| format!("<a href=\"{}\">{}</a>", esc(&principal_href(p)), esc(p))).collect::<Vec<_>>().join(", "),
    }
}

/// A table with a caption and its CSV link; `id` names it for tests and links.
pub fn table(id: &str, caption: &str, t: &Table, csv_href: Option<&str>) -> String {
    let mut out = format!("<table id=\"{}\"><caption>{}", esc(id), esc(caption));
    if let Some(h) = csv_href {
        out.push_str(&format!(" <a class=\"csv\" href=\"{}\">CSV</a>", esc(h)));
    }
    out.push_str("</caption><thead><tr>");
    for h in &t.header {
        out.push_str(&format!("<th>{}</th>", esc(&h.replace('_', " "))));
    }
    out.push_str("</tr></thead><tbody>");
    if t.rows.is_empty() {
        out.push_str(&format!("<tr><td colspan=\"{}\" class=\"empty\">none</td></tr>", t.header.len()));
    }
    for r in &t.rows {
        out.push_str("<tr>");
        for c in r {
            let class = if matches!(c, Cell::Amount(_)) { " class=\"num\"" } else { "" };
            out.push_str(&format!("<td{class}>{}</td>", cell(c, t)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A plain table of already formatted strings (the report's own breakdowns); `link_first`
/// links the first column to the principal's page.
pub fn text_table(id: &str, caption: &str, header: &[&str], rows: &[Vec<String>], link_first: bool, csv_href: Option<&str>) -> String {
    let mut out = format!("<table id=\"{}\"><caption>{}", esc(id), esc(caption));
    if let Some(h) = csv_href {
        out.push_str(&format!(" <a class=\"csv\" href=\"{}\">CSV</a>", esc(h)));
    }
    out.push_str("</caption><thead><tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        out.push_str(&format!("<tr><td colspan=\"{}\" class=\"empty\">none</td></tr>", header.len()));
    }
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            if i == 0 && link_first {
                out.push_str(&format!("<td><a href=\"{}\">{}</a></td>", esc(&principal_href(c)), esc(c)));
            } else {
                out.push_str(&format!("<td>{}</td>", esc(c)));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// Previous / next links keeping the other parameters.
pub fn pagination(path: &str, params: &[(&str, &str)], p: Pages) -> String {
    if p.count <= 1 {
        return format!("<p class=\"pages\">{} row(s)</p>\n", p.total_rows);
    }
    let link = |n: usize, text: &str| {
        let n = n.to_string();
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("page", &n));
        format!("<a href=\"{}\">{text}</a>", esc(&href(path, &all)))
    };
    let mut out = String::from("<p class=\"pages\">");
    if p.current > 1 {
        out.push_str(&link(p.current - 1, "« previous"));
    }
    out.push_str(&format!(" page {} of {} ({} rows) ", p.current, p.count, p.total_rows));
    if p.current < p.count {
        out.push_str(&link(p.current + 1, "next »"));
    }
    out.push_str("</p>\n");
    out
}

pub fn login(failed: bool) -> String {
    let mut out = head("Log in");
    out.push_str("<body><main class=\"login\"><h1>bedrock-watch console</h1>");
    if failed {
        out.push_str(&error_box("that token is not this console's", Some("copy the URL or token `bedrock-watch serve` printed when it started; each run prints a new one")));
    }
    out.push_str(
        "<p>Open the URL <code>bedrock-watch serve</code> printed, or paste its token.</p>\
         <form method=\"get\" action=\"/login\"><label>Session token <input type=\"password\" name=\"token\" autocomplete=\"off\" required></label> <button type=\"submit\">Log in</button></form></main></body></html>\n",
    );
    out
}

/// A form field: (name, label, value, kind) where kind is `text`, `hidden` or `select:a|b|c`.
pub struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    pub kind: &'a str,
}

/// A GET form (filters, the first step of an action: nothing changes until confirmed).
pub fn get_form(action: &str, id: &str, fields: &[Field], button: &str) -> String {
    let mut out = format!("<form method=\"get\" action=\"{}\" id=\"{}\" class=\"inline\">", esc(action), esc(id));
    for f in fields {
        out.push_str(&field(f));
    }
    out.push_str(&format!("<button type=\"submit\">{}</button></form>\n", esc(button)));
    out
}

fn field(f: &Field) -> String {
    match f.kind.strip_prefix("select:") {
        _ if f.kind == "hidden" => format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(f.name), esc(f.value)),
        Some(options) => {
            let mut s = format!("<label>{} <select name=\"{}\">", esc(f.label), esc(f.name));
            for o in options.split('|') {
                let (v, text) = o.split_once('=').unwrap_or((o, if o.is_empty() { "all" } else { o }));
                let sel = if v == f.value { " selected" } else { "" };
                s.push_str(&format!("<option value=\"{}\"{sel}>{}</option>", esc(v), esc(text)));
            }
            s.push_str("</select></label> ");
            s
        }
        None => format!("<label>{} <input type=\"{}\" name=\"{}\" value=\"{}\"></label> ", esc(f.label), esc(f.kind), esc(f.name), esc(f.value)),
    }
}

/// The confirmation step of a state change: what will happen, in words, and a POST form that
/// carries the CSRF token. Nothing is changed before this form is submitted.
pub fn confirm(f: &Frame, what: &str, hidden: &[(&str, &str)], csrf: &str) -> String {
    let mut body = format!("<p class=\"confirm\">{}</p><form method=\"post\" action=\"/action\" id=\"confirm\">", esc(what));
    body.push_str(&format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(csrf)));
    for (k, v) in hidden {
        body.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)));
    }
    body.push_str("<button type=\"submit\">Confirm</button> <a href=\"/blocking\">Cancel</a></form>\n");
    layout("Confirm", "Blocking", f, &body)
}

/// `<section>` with a heading.
pub fn section(title: &str, inner: &str) -> String {
    format!("<section><h2>{}</h2>\n{inner}</section>\n", esc(title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuotaUnit;

    #[test]
    fn text_and_urls_are_escaped() {
        let t = Table { header: vec!["principal", "reason"], rows: vec![vec![Cell::Principal("role/s<x>&\"".into()), Cell::Text("<script>alert(1)</script>".into())]], unit: QuotaUnit::Tokens };
        let html = table("t", "T", &t, None);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("href=\"/principal?name=role%2Fs%3Cx%3E%26%22\""), "{html}");
        assert_eq!(enc("a b@c.d"), "a%20b%40c.d");
    }

    #[test]
    fn pages_link_both_ways_and_keep_filters() {
        let html = pagination("/users", &[("q", "a&b")], Pages { current: 2, count: 3, total_rows: 120 });
        assert!(html.contains("href=\"/users?q=a%26b&amp;page=1\""), "{html}");
        assert!(html.contains("href=\"/users?q=a%26b&amp;page=3\""));
        assert!(html.contains("page 2 of 3"));
    }

    #[test]
    fn confirmation_posts_with_the_csrf_token() {
        let html = confirm(&Frame::default(), "Block alice until 2026-12-03T00:00:00Z?", &[("action", "block"), ("principal", "alice")], "c5rf");
        assert!(html.contains("method=\"post\" action=\"/action\""));
        assert!(html.contains("name=\"csrf\" value=\"c5rf\""));
        assert!(html.contains("name=\"principal\" value=\"alice\""));
    }

    #[test]
    fn pages_have_no_script_and_no_inline_style() {
        let page = layout("Users", "Users", &Frame { quotas: false, quota_note: Some("no quotas".into()), ..Frame::default() }, "<p>x</p>");
        assert!(!page.contains("<script") && !page.contains("style="));
        assert!(!page.contains("/blocking"), "no Blocking link without quotas");
        assert!(page.contains("id=\"no-quotas\""));
        assert!(!login(true).contains("<script"));
    }
}
