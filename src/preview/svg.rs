//! A dashboard as SVG: the grid, then one box per widget with its title, its type and as much of
//! its metric list as fits (the rest summarised as "… N more"). Colours tell the widget types
//! apart; the `<title>` of each box holds the full title for a hover tooltip.

use std::fmt::Write;

use super::escape::{truncate, xml};
use super::layout::{self, Rect};
use super::model::{DashboardView, WidgetBox};
use crate::cloudwatch::dashboard::GRID_COLUMNS;

/// Inline style shared by the SVG file and the HTML page (which embeds the same `<svg>`).
const STYLE: &str = "\
.bg{fill:#ffffff}\
.grid{stroke:#eef1f4;stroke-width:1}\
.name{font:bold 20px 'DejaVu Sans',Arial,sans-serif;fill:#16191f}\
.sub{font:12px 'DejaVu Sans',Arial,sans-serif;fill:#5f6b7a}\
.box{stroke-width:1.5}\
.w-text .box{fill:#f2f8fd;stroke:#7fb2e0}\
.w-graph .box{fill:#ffffff;stroke:#8d99a8}\
.w-logs .box{fill:#fbf8ef;stroke:#c7a34a}\
.w-alarm .box{fill:#fdf3f1;stroke:#d1745f}\
.w-other .box{fill:#f4f4f4;stroke:#999999}\
.title{font:bold 14px 'DejaVu Sans',Arial,sans-serif;fill:#16191f}\
.type{font:11px 'DejaVu Sans',Arial,sans-serif;fill:#5f6b7a}\
.line{font:11px 'DejaVu Sans Mono',monospace;fill:#283341}\
.more{font:italic 11px 'DejaVu Sans',Arial,sans-serif;fill:#5f6b7a}";

/// A standalone SVG document (with XML declaration).
pub fn document(d: &DashboardView) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", element(d))
}

/// The `<svg>` element of a dashboard, for embedding in HTML or writing as a file.
pub fn element(d: &DashboardView) -> String {
    let (width, height) = layout::canvas(d.widgets.iter().map(|w| w.y.saturating_add(w.height)));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        xml(&format!("Preview of dashboard {}", d.name))
    );
    let _ = writeln!(s, "<style>{STYLE}</style>");
    let _ = writeln!(s, "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\"/>");
    for col in 0..=GRID_COLUMNS {
        let x = layout::MARGIN_PX + col * layout::COLUMN_PX;
        let _ = writeln!(s, "<line class=\"grid\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>", layout::HEADER_PX, height - layout::MARGIN_PX);
    }
    let _ = writeln!(s, "<text class=\"name\" x=\"{}\" y=\"28\">{}</text>", layout::MARGIN_PX, xml(&d.name));
    let _ = writeln!(
        s,
        "<text class=\"sub\" x=\"{}\" y=\"46\">{}</text>",
        layout::MARGIN_PX,
        xml(&format!("{} · {} widgets on the {GRID_COLUMNS}-column grid · bedrock-watch preview", d.logical_id, d.widgets.len()))
    );
    for w in &d.widgets {
        widget(&mut s, w);
    }
    s.push_str("</svg>\n");
    s
}

fn widget(s: &mut String, w: &WidgetBox) {
    let r = layout::widget_rect(w.x, w.y, w.width, w.height);
    let type_line = format!("{} · {}×{} at ({}, {})", w.kind.label(), w.width, w.height, w.x, w.y);
    let _ = writeln!(s, "<g class=\"w-{}\">", w.kind.class());
    let _ = writeln!(s, "<title>{}</title>", xml(&format!("{} ({type_line})", w.title)));
    let _ = writeln!(s, "<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\"/>", r.x, r.y, r.width, r.height);
    let tx = r.x + layout::PAD_PX;
    if !w.title.is_empty() {
        let _ = writeln!(s, "<text class=\"title\" x=\"{tx}\" y=\"{}\">{}</text>", r.y + 20, xml(&truncate(&w.title, layout::title_chars(r.width))));
    }
    let _ = writeln!(s, "<text class=\"type\" x=\"{tx}\" y=\"{}\">{}</text>", r.y + 35, xml(&truncate(&type_line, layout::body_chars(r.width))));
    body(s, &r, &w.lines);
    s.push_str("</g>\n");
}

/// The lines that fit; when some do not, the last slot says how many were left out.
fn body(s: &mut String, r: &Rect, lines: &[String]) {
    let fit = layout::body_lines(r.height);
    let chars = layout::body_chars(r.width);
    let shown = if lines.len() > fit { fit.saturating_sub(1) } else { lines.len() };
    let mut y = r.y + layout::WIDGET_HEAD_PX + 12;
    for line in &lines[..shown] {
        let _ = writeln!(s, "<text class=\"line\" x=\"{}\" y=\"{y}\">{}</text>", r.x + layout::PAD_PX, xml(&truncate(line, chars)));
        y += layout::LINE_PX;
    }
    if shown < lines.len() && fit > 0 {
        let _ = writeln!(s, "<text class=\"more\" x=\"{}\" y=\"{y}\">… {} more</text>", r.x + layout::PAD_PX, lines.len() - shown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::model::WidgetType;

    fn view(title: &str, lines: Vec<String>, height: u32) -> DashboardView {
        DashboardView {
            logical_id: "D".into(),
            name: "Ops".into(),
            widgets: vec![WidgetBox { x: 12, y: 1, width: 12, height, kind: WidgetType::Logs, title: title.into(), lines }],
        }
    }

    #[test]
    fn titles_and_lines_are_escaped() {
        let svg = element(&view("<script>alert(\"x\")</script> & co", vec!["a < b && c".into()], 6));
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"), "{svg}");
        assert!(svg.contains(">a &lt; b &amp;&amp; c</text>"), "{svg}");
    }

    #[test]
    fn boxes_sit_at_their_grid_pixels() {
        let svg = element(&view("t", vec![], 6));
        let r = layout::widget_rect(12, 1, 12, 6);
        assert!(svg.contains(&format!("<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"", r.x, r.y, r.width, r.height)), "{svg}");
        assert!(svg.contains("logs table · 12×6 at (12, 1)"), "{svg}");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1472\" height=\"352\""), "{svg}");
    }

    #[test]
    fn overflowing_lines_are_counted() {
        let lines: Vec<String> = (0..40).map(|i| format!("metric {i}")).collect();
        let svg = element(&view("t", lines, 3));
        let fit = layout::body_lines(layout::widget_rect(0, 0, 1, 3).height);
        assert_eq!(svg.matches("class=\"line\"").count(), fit - 1);
        assert!(svg.contains(&format!("… {} more", 40 - (fit - 1))), "{svg}");
    }

    #[test]
    fn documents_are_deterministic() {
        let v = view("t", vec!["x".into()], 6);
        assert_eq!(document(&v), document(&v));
        assert!(document(&v).starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
    }
}
