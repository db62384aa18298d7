//! What a preview draws, read from a template's dashboard resources: each widget's grid box,
//! its type, its title and one line per metric, expression, query line or alarm.
//!
//! The body is the JSON text inside the resource's `Fn::Sub`; `${Name}` placeholders stay
//! visible (a reviewer sees `${AWS::Region}`), alarm ARNs shrink to their logical ids, and
//! escaped `${!` becomes the literal `${` CloudFormation will leave.

use serde_json::Value as J;

use crate::cfn::Template;
use crate::cloudwatch::dashboard::body_text;

use super::PreviewError;

/// One dashboard of the template.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardView {
    pub logical_id: String,
    /// The `DashboardName` (the logical id when the name is not a literal).
    pub name: String,
    pub widgets: Vec<WidgetBox>,
}

/// What kind of widget a box is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WidgetType {
    Text,
    /// A metric graph with its view (`timeSeries`, `singleValue`, `bar`, …).
    Graph { view: String, stacked: bool },
    TopContributors,
    Logs,
    AlarmStatus,
    Other(String),
}

impl WidgetType {
    /// The type as a reviewer reads it in the box.
    pub fn label(&self) -> String {
        match self {
            WidgetType::Text => "text".to_owned(),
            WidgetType::Graph { view, stacked } => {
                let view = match view.as_str() {
                    "timeSeries" => "time series",
                    "singleValue" => "single value",
                    other => other,
                };
                format!("graph: {view}{}", if *stacked { ", stacked" } else { "" })
            }
            WidgetType::TopContributors => "graph: top contributors".to_owned(),
            WidgetType::Logs => "logs table".to_owned(),
            WidgetType::AlarmStatus => "alarm status".to_owned(),
            WidgetType::Other(t) => t.clone(),
        }
    }

    /// A short class name for styling (`text`, `graph`, `logs`, `alarm`, `other`).
    pub fn class(&self) -> &'static str {
        match self {
            WidgetType::Text => "text",
            WidgetType::Graph { .. } | WidgetType::TopContributors => "graph",
            WidgetType::Logs => "logs",
            WidgetType::AlarmStatus => "alarm",
            WidgetType::Other(_) => "other",
        }
    }
}

/// A widget at its grid position with the text to show in it.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub kind: WidgetType,
    pub title: String,
    /// The metric list, the query, the alarms or the markdown below the title.
    pub lines: Vec<String>,
}

/// Every `AWS::CloudWatch::Dashboard` of the template, in template order.
pub fn dashboards(template: &Template) -> Result<Vec<DashboardView>, PreviewError> {
    template
        .resources_of_type("AWS::CloudWatch::Dashboard")
        .map(|(id, r)| {
            let body = body_text(&r.properties).ok_or_else(|| PreviewError::NoBody { logical_id: id.to_owned() })?;
            let json: J = serde_json::from_str(body).map_err(|source| PreviewError::BadBody { logical_id: id.to_owned(), source })?;
            let widgets = json["widgets"].as_array().map_or(&[][..], Vec::as_slice);
            let name = r.properties.get("DashboardName").and_then(crate::cfn::Value::as_str).unwrap_or(id).to_owned();
            let widgets = widgets
                .iter()
                .enumerate()
                .map(|(index, w)| widget(w).map_err(|reason| PreviewError::BadWidget { logical_id: id.to_owned(), index, reason }))
                .collect::<Result<_, _>>()?;
            Ok(DashboardView { logical_id: id.to_owned(), name, widgets })
        })
        .collect()
}

fn widget(w: &J) -> Result<WidgetBox, String> {
    let grid = |key: &str| -> Result<u32, String> {
        let n = w[key].as_u64().ok_or_else(|| format!("`{key}` is missing or not a whole number"))?;
        u32::try_from(n).map_err(|_| format!("`{key}` is too large: {n}"))
    };
    let (x, y, width, height) = (grid("x")?, grid("y")?, grid("width")?, grid("height")?);
    let p = &w["properties"];
    let title = p["title"].as_str().map(display).unwrap_or_default();
    let (kind, title, lines) = match w["type"].as_str().unwrap_or_default() {
        "text" => {
            let markdown = display(p["markdown"].as_str().unwrap_or_default());
            let mut lines = markdown.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).map(str::to_owned);
            let heading = lines.next().map(|l| l.trim_start_matches('#').trim().to_owned()).unwrap_or_default();
            (WidgetType::Text, heading, lines.collect())
        }
        "metric" if p.get("insightRule").is_some() => {
            let rule = &p["insightRule"];
            let line = format!(
                "top {} contributors of rule {}, by {}",
                rule["maxContributorCount"].as_u64().unwrap_or(0),
                placeholder_name(rule["ruleName"].as_str().unwrap_or("?")),
                rule["orderBy"].as_str().unwrap_or("Sum")
            );
            (WidgetType::TopContributors, title, vec![line])
        }
        "metric" => {
            let kind = WidgetType::Graph { view: p["view"].as_str().unwrap_or("timeSeries").to_owned(), stacked: p["stacked"].as_bool().unwrap_or(false) };
            let mut lines: Vec<String> = p["metrics"].as_array().map_or(&[][..], Vec::as_slice).iter().map(metric_line).collect();
            for a in p["annotations"]["horizontal"].as_array().map_or(&[][..], Vec::as_slice) {
                lines.push(format!("line: {} at {}", display(a["label"].as_str().unwrap_or("")), a["value"]));
            }
            (kind, title, lines)
        }
        "log" => (WidgetType::Logs, title, display(p["query"].as_str().unwrap_or_default()).split(" | ").flat_map(|l| l.lines().map(str::to_owned).collect::<Vec<_>>()).collect()),
        "alarm" => {
            let alarms = p["alarms"].as_array().map_or(&[][..], Vec::as_slice);
            (WidgetType::AlarmStatus, title, alarms.iter().map(|a| placeholder_name(a.as_str().unwrap_or("?"))).collect())
        }
        other => (WidgetType::Other(other.to_owned()), title, Vec::new()),
    };
    Ok(WidgetBox { x, y, width, height, kind, title, lines })
}

/// One row of a graph's `metrics`: `label: namespace metric dim=value · stat` for a metric,
/// `label: expression` for an expression; hidden inputs as `id = …`.
fn metric_line(row: &J) -> String {
    let items = row.as_array().map_or(&[][..], Vec::as_slice);
    let (options, fields) = match items.split_last() {
        Some((last, rest)) if last.is_object() => (last, rest),
        _ => (&J::Null, items),
    };
    let body = match options["expression"].as_str() {
        Some(expr) => display(expr),
        None => {
            let text: Vec<&str> = fields.iter().filter_map(J::as_str).collect();
            let mut s = text.iter().take(2).copied().collect::<Vec<_>>().join(" ");
            for pair in text[text.len().min(2)..].chunks(2) {
                s.push_str(&format!(" {}", pair.join("=")));
            }
            if let Some(stat) = options["stat"].as_str() {
                s.push_str(&format!(" · {stat}"));
            }
            display(&s)
        }
    };
    if options["visible"] == J::Bool(false) {
        return format!("{} = {body}", options["id"].as_str().unwrap_or("?"));
    }
    match options["label"].as_str() {
        Some(label) => format!("{}: {body}", display(label)),
        None => body,
    }
}

/// Text of the body as it will read after CloudFormation's Sub: `${!x}` is the literal `${x}`.
fn display(text: &str) -> String {
    text.replace("${!", "${")
}

/// `${HighLatencyAlarm.Arn}` → `HighLatencyAlarm`; other text unchanged.
fn placeholder_name(text: &str) -> String {
    match text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        Some(inner) if !inner.starts_with('!') => inner.split_once('.').map_or(inner, |(id, _)| id).to_owned(),
        _ => display(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Map, Resource};

    fn template(widgets: J) -> Template {
        let mut t = Template::new("t");
        let body = serde_json::json!({ "widgets": widgets }).to_string();
        t.add("D", Resource::new("AWS::CloudWatch::Dashboard", Map::new().with("DashboardName", "Ops").with("DashboardBody", body))).unwrap();
        t
    }

    #[test]
    fn reads_each_widget_type() {
        let t = template(serde_json::json!([
            {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": "# Hello <world>\n\nsecond line"}},
            {"type": "metric", "x": 0, "y": 2, "width": 12, "height": 6, "properties": {"title": "G", "view": "singleValue", "stacked": true, "metrics": [
                [{"expression": "m1_0 * 2", "label": "Double", "id": "e0"}],
                ["AWS/Bedrock", "Invocations", "ModelId", "m", {"stat": "Sum", "id": "m1_0", "visible": false}],
                ["AWS/Bedrock", "InvocationLatency", {"stat": "p99", "label": "p99 ${!x}"}]
            ], "annotations": {"horizontal": [{"label": "target", "value": 5000.0}]}}},
            {"type": "log", "x": 12, "y": 2, "width": 12, "height": 6, "properties": {"title": "L", "query": "SOURCE '${Group}' | fields a\n| limit 5"}},
            {"type": "alarm", "x": 0, "y": 8, "width": 24, "height": 3, "properties": {"title": "A", "alarms": ["${HighLatency.Arn}", "arn:aws:cloudwatch:x"]}},
            {"type": "metric", "x": 0, "y": 11, "width": 12, "height": 6, "properties": {"title": "T", "insightRule": {"maxContributorCount": 10, "orderBy": "Sum", "ruleName": "${Rule}"}}}
        ]));
        let d = &dashboards(&t).unwrap()[0];
        assert_eq!(d.name, "Ops");
        let w = &d.widgets;
        assert_eq!((w[0].kind.clone(), w[0].title.as_str(), w[0].lines.clone()), (WidgetType::Text, "Hello <world>", vec!["second line".to_owned()]));
        assert_eq!(w[1].kind.label(), "graph: single value, stacked");
        assert_eq!(w[1].lines, vec!["Double: m1_0 * 2", "m1_0 = AWS/Bedrock Invocations ModelId=m · Sum", "p99 ${x}: AWS/Bedrock InvocationLatency · p99", "line: target at 5000.0"]);
        assert_eq!((w[2].x, w[2].y, w[2].width, w[2].height), (12, 2, 12, 6));
        assert_eq!(w[2].lines, vec!["SOURCE '${Group}'", "fields a", "| limit 5"]);
        assert_eq!(w[3].lines, vec!["HighLatency", "arn:aws:cloudwatch:x"]);
        assert_eq!(w[4].lines, vec!["top 10 contributors of rule Rule, by Sum"]);
    }

    #[test]
    fn malformed_bodies_are_errors_that_name_the_widget() {
        let t = template(serde_json::json!([{"type": "text", "x": 0, "y": 0, "width": 24, "properties": {}}]));
        let e = dashboards(&t).unwrap_err().to_string();
        assert!(e.contains("dashboard D, widget 0") && e.contains("`height`"), "{e}");
        let mut t = Template::new("t");
        t.add("D", Resource::new("AWS::CloudWatch::Dashboard", Map::new().with("DashboardBody", "{not json"))).unwrap();
        assert!(matches!(dashboards(&t), Err(PreviewError::BadBody { .. })));
    }
}
