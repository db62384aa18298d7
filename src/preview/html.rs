//! A dashboard as one HTML page: the SVG picture inline, with inline CSS, so it opens offline in
//! any browser (no scripts, fonts or images fetched) and can be attached to a pull request.

use super::escape::xml;
use super::model::DashboardView;
use super::svg;

const PAGE_STYLE: &str = "body{margin:0;padding:16px;background:#f2f3f3;font-family:'DejaVu Sans',Arial,sans-serif;color:#16191f}\
header{margin:0 0 12px}h1{font-size:22px;margin:0 0 4px}p{margin:0;color:#5f6b7a;font-size:13px}\
main{overflow-x:auto}svg{display:block;box-shadow:0 1px 3px rgba(0,0,0,.2)}";

/// The HTML page of dashboard `d` of the stack `stack_name`.
pub fn document(d: &DashboardView, stack_name: &str) -> String {
    let title = xml(&format!("{} — bedrock-watch preview", d.name));
    let about = xml(&format!("Stack {stack_name}, resource {}: {} widgets, drawn from the synthesized template.", d.logical_id, d.widgets.len()));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n<header><h1>{}</h1><p>{about}</p></header>\n<main>\n{}</main>\n</body>\n</html>\n",
        xml(&d.name),
        svg::element(d)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_self_contained_and_escaped() {
        let d = DashboardView { logical_id: "D".into(), name: "a<b".into(), widgets: vec![] };
        let html = document(&d, "s&t");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<h1>a&lt;b</h1>") && html.contains("Stack s&amp;t"), "{html}");
        for remote in ["http://", "https://", "<script", "<link", "src="] {
            let outside_svg_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assert!(!outside_svg_namespace.contains(remote), "{remote} in {html}");
        }
        assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    }
}
