//! `AWS::CloudWatch::Dashboard` from typed widgets, laid out on CloudWatch's 24-column grid.
//!
//! Widgets flow left to right and wrap, so positions are computed, never typed, and cannot
//! overlap. The body is pretty JSON inside an `Fn::Sub`: it diffs line by line in a pull request
//! and can point at the stack's alarms and the deploy region.

use crate::cfn::render::embedded_json;
use crate::cfn::{CfnError, Map, Pseudo, Resource, ResourceRef, Sub, Template, Value};

use super::metric::{Metric, MetricSource, Query, Stat};

pub const GRID_COLUMNS: u32 = 24;
pub const MAX_WIDGETS: usize = 500;
pub const MAX_METRICS_PER_WIDGET: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphView {
    TimeSeries,
    SingleValue,
    Bar,
}

impl GraphView {
    fn as_str(self) -> &'static str {
        match self {
            GraphView::TimeSeries => "timeSeries",
            GraphView::SingleValue => "singleValue",
            GraphView::Bar => "bar",
        }
    }
}

/// What a widget shows.
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetKind {
    Text { markdown: String },
    Graph { title: String, sources: Vec<MetricSource>, view: GraphView, stacked: bool, y_label: Option<String>, thresholds: Vec<(String, f64)> },
    /// A Logs Insights query shown as a table.
    Logs { title: String, log_groups: Vec<Value>, query: String },
    AlarmStatus { title: String, alarms: Vec<Value> },
    /// The top contributors of a Contributor Insights rule over time.
    TopContributors { title: String, rule_name: Value, max_contributors: u32 },
}

/// A widget and its size in grid units.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    pub kind: WidgetKind,
    pub width: u32,
    pub height: u32,
    /// Region of the data; default: the region the stack is deployed in.
    pub region: Option<String>,
}

impl Widget {
    pub fn text(markdown: impl Into<String>) -> Widget {
        Widget { kind: WidgetKind::Text { markdown: markdown.into() }, width: 24, height: 2, region: None }
    }

    pub fn graph(title: impl Into<String>, sources: Vec<MetricSource>) -> Widget {
        Widget {
            kind: WidgetKind::Graph { title: title.into(), sources, view: GraphView::TimeSeries, stacked: false, y_label: None, thresholds: Vec::new() },
            width: 12,
            height: 6,
            region: None,
        }
    }

    pub fn single_value(title: impl Into<String>, sources: Vec<MetricSource>) -> Widget {
        let mut w = Widget::graph(title, sources);
        if let WidgetKind::Graph { view, .. } = &mut w.kind {
            *view = GraphView::SingleValue;
        }
        w.height = 4;
        w
    }

    pub fn logs(title: impl Into<String>, log_groups: Vec<Value>, query: impl Into<String>) -> Widget {
        Widget { kind: WidgetKind::Logs { title: title.into(), log_groups, query: query.into() }, width: 24, height: 6, region: None }
    }

    /// Top `max_contributors` of the Contributor Insights rule named `rule_name`.
    pub fn top_contributors(title: impl Into<String>, rule_name: Value, max_contributors: u32) -> Widget {
        Widget { kind: WidgetKind::TopContributors { title: title.into(), rule_name, max_contributors }, width: 12, height: 6, region: None }
    }

    pub fn alarm_status(title: impl Into<String>, alarms: Vec<Value>) -> Widget {
        Widget { kind: WidgetKind::AlarmStatus { title: title.into(), alarms }, width: 24, height: 3, region: None }
    }

    pub fn size(mut self, width: u32, height: u32) -> Widget {
        self.width = width;
        self.height = height;
        self
    }

    pub fn y_label(mut self, label: impl Into<String>) -> Widget {
        if let WidgetKind::Graph { y_label, .. } = &mut self.kind {
            *y_label = Some(label.into());
        }
        self
    }

    pub fn threshold_line(mut self, label: impl Into<String>, value: f64) -> Widget {
        if let WidgetKind::Graph { thresholds, .. } = &mut self.kind {
            thresholds.push((label.into(), value));
        }
        self
    }

    pub fn stacked(mut self) -> Widget {
        if let WidgetKind::Graph { stacked, .. } = &mut self.kind {
            *stacked = true;
        }
        self
    }

    pub fn in_region(mut self, region: impl Into<String>) -> Widget {
        self.region = Some(region.into());
        self
    }

    pub fn title(&self) -> &str {
        match &self.kind {
            WidgetKind::Text { .. } => "",
            WidgetKind::Graph { title, .. }
            | WidgetKind::Logs { title, .. }
            | WidgetKind::AlarmStatus { title, .. }
            | WidgetKind::TopContributors { title, .. } => title,
        }
    }

    /// Metrics CloudWatch counts for this widget (each metric and each expression).
    pub fn metric_count(&self) -> usize {
        match &self.kind {
            WidgetKind::Graph { sources, .. } => sources
                .iter()
                .map(|s| match s {
                    MetricSource::Math { inputs, .. } => inputs.len() + 1,
                    _ => 1,
                })
                .sum(),
            _ => 0,
        }
    }
}

/// A widget with its computed position.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub widget: Widget,
    pub x: u32,
    pub y: u32,
}

/// Flows widgets left to right on the grid, wrapping when a row is full.
pub fn layout(widgets: &[Widget]) -> Vec<Placed> {
    let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
    widgets
        .iter()
        .map(|w| {
            let width = w.width.clamp(1, GRID_COLUMNS);
            if x + width > GRID_COLUMNS {
                x = 0;
                y += row_height;
                row_height = 0;
            }
            let placed = Placed { widget: Widget { width, ..w.clone() }, x, y };
            x += width;
            row_height = row_height.max(w.height);
            placed
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    logical_id: String,
    name: String,
    widgets: Vec<Widget>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardRef(pub ResourceRef);

impl DashboardRef {
    pub fn name(&self) -> Value {
        self.0.reference()
    }

    /// Console URL of the dashboard.
    pub fn url(&self) -> Value {
        Sub::new()
            .text("https://")
            .pseudo(Pseudo::Region)
            .text(".console.aws.amazon.com/cloudwatch/home?region=")
            .pseudo(Pseudo::Region)
            .text("#dashboards:name=")
            .reference(self.0.logical_id())
            .build()
    }
}

impl Dashboard {
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>) -> Self {
        Dashboard { logical_id: logical_id.into(), name: name.into(), widgets: Vec::new() }
    }

    pub fn widget(mut self, w: Widget) -> Self {
        self.widgets.push(w);
        self
    }

    pub fn widgets(&self) -> &[Widget] {
        &self.widgets
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dashboard body as a template value (before embedding as JSON text).
    pub fn body(&self) -> Value {
        let widgets = layout(&self.widgets).iter().map(widget_json).collect::<Vec<_>>();
        Map::new().with("widgets", Value::List(widgets)).into()
    }

    pub fn build(self, template: &mut Template) -> Result<DashboardRef, CfnError> {
        check_dashboard_name(&self.name)?;
        if self.widgets.len() > MAX_WIDGETS {
            return Err(CfnError::invalid("cloudwatch::Dashboard", format!("{} has {} widgets; at most {MAX_WIDGETS}", self.name, self.widgets.len())));
        }
        for w in &self.widgets {
            if w.metric_count() > MAX_METRICS_PER_WIDGET {
                return Err(CfnError::invalid(
                    "cloudwatch::Dashboard",
                    format!("widget `{}` has {} metrics; at most {MAX_METRICS_PER_WIDGET}", w.title(), w.metric_count()),
                ));
            }
        }
        let props = Map::new().with("DashboardName", self.name.as_str()).with("DashboardBody", embedded_json(&self.body()));
        template.add(&self.logical_id, Resource::new("AWS::CloudWatch::Dashboard", props)).map(DashboardRef)
    }
}

/// The JSON text of a dashboard resource's `DashboardBody`: a plain string, or the template of
/// the `Fn::Sub` it is wrapped in when it points at the stack's resources. Readers of a finished
/// template (checks, previews) start here rather than each unwrapping the property.
pub fn body_text(properties: &Map) -> Option<&str> {
    match properties.get("DashboardBody")? {
        Value::Str(s) => Some(s),
        Value::Fn(f) => match f.as_ref() {
            crate::cfn::Intrinsic::Sub { template, .. } => Some(template),
            _ => None,
        },
        _ => None,
    }
}

/// Dashboard names: up to 255 characters of `A-Za-z0-9-_`.
pub fn check_dashboard_name(name: &str) -> Result<(), CfnError> {
    if name.is_empty() || name.len() > 255 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(CfnError::invalid("cloudwatch::Dashboard", format!("dashboard name `{name}` must be 1-255 characters of letters, digits, - and _")));
    }
    Ok(())
}

fn region_value(w: &Widget) -> Value {
    w.region.as_deref().map_or_else(|| Value::pseudo(Pseudo::Region), Value::str)
}

fn widget_json(p: &Placed) -> Value {
    let w = &p.widget;
    let (kind, properties) = match &w.kind {
        WidgetKind::Text { markdown } => ("text", Map::new().with("markdown", markdown.as_str())),
        WidgetKind::Graph { title, sources, view, stacked, y_label, thresholds } => {
            let mut metrics = Vec::new();
            for (i, s) in sources.iter().enumerate() {
                metrics.extend(source_rows(s, i, w.region.as_deref()));
            }
            let mut props = Map::new()
                .with("title", title.as_str())
                .with("view", view.as_str())
                .with("stacked", *stacked)
                .with("region", region_value(w))
                .with("metrics", Value::List(metrics))
                .with("period", sources.first().map_or(300, MetricSource::period));
            if let Some(l) = y_label {
                props.insert("yAxis", Map::new().with("left", Map::new().with("label", l.as_str()).with("showUnits", false)));
            }
            if !thresholds.is_empty() {
                let lines = thresholds.iter().map(|(label, value)| Value::Map(Map::new().with("label", label.as_str()).with("value", Value::from(*value))));
                props.insert("annotations", Map::new().with("horizontal", Value::list(lines)));
            }
            ("metric", props)
        }
        WidgetKind::Logs { title, log_groups, query } => {
            // The query names its log groups with SOURCE; the widget needs them in the text.
            let mut source = Sub::new().text("SOURCE ");
            for (i, g) in log_groups.iter().enumerate() {
                if i > 0 {
                    source = source.text(" | SOURCE ");
                }
                source = source.text("'").splice(g).text("'");
            }
            let q = source.text(" | ").text(query).build();
            ("log", Map::new().with("title", title.as_str()).with("region", region_value(w)).with("query", q).with("view", "table"))
        }
        WidgetKind::AlarmStatus { title, alarms } => ("alarm", Map::new().with("title", title.as_str()).with("alarms", Value::List(alarms.clone()))),
        WidgetKind::TopContributors { title, rule_name, max_contributors } => (
            "metric",
            Map::new()
                .with("title", title.as_str())
                .with("region", region_value(w))
                .with("view", "timeSeries")
                .with("stacked", false)
                .with("period", 300)
                .with(
                    "insightRule",
                    Map::new().with("maxContributorCount", *max_contributors).with("orderBy", "Sum").with("ruleName", rule_name.clone()),
                )
                .with("legend", Map::new().with("position", "bottom")),
        ),
    };
    Map::new()
        .with("type", kind)
        .with("x", p.x)
        .with("y", p.y)
        .with("width", w.width)
        .with("height", w.height)
        .with("properties", properties)
        .into()
}

/// The `metrics` rows of one source: a plain metric row, or an expression row plus its hidden
/// inputs. Ids are prefixed with the source's index so they are unique in the widget.
fn source_rows(source: &MetricSource, index: usize, region: Option<&str>) -> Vec<Value> {
    match source {
        MetricSource::Metric(m) => vec![metric_row(m, None, true, region)],
        // An empty label lets CloudWatch name the series: a grouped query's group values.
        MetricSource::Insights { sql, period, label } => vec![Value::list([Value::Map(
            Map::new().with("expression", sql.as_str()).with_opt("label", (!label.is_empty()).then_some(label.as_str())).with("id", format!("q{index}")).with("period", *period),
        )])],
        MetricSource::Math { expression, inputs, label, period } => {
            let mut rows = vec![Value::list([Value::Map(
                Map::new()
                    .with("expression", prefix_ids(expression, inputs, index))
                    .with("label", label.as_str())
                    .with("id", format!("e{index}"))
                    .with("period", *period),
            )])];
            for (qid, q) in inputs {
                let id = format!("{qid}_{index}");
                match q {
                    Query::Metric(m) => rows.push(metric_row(m, Some(&id), false, region)),
                    Query::Expression { expression, period } => rows.push(Value::list([Value::Map(
                        Map::new().with("expression", expression.as_str()).with("id", id).with("period", *period).with("visible", false),
                    )])),
                    Query::Insights { sql, period } => rows.push(Value::list([Value::Map(
                        Map::new().with("expression", sql.as_str()).with("id", id).with("period", *period).with("visible", false),
                    )])),
                }
            }
            rows
        }
    }
}

fn prefix_ids(expression: &str, inputs: &[(String, Query)], index: usize) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(expression.len() + 8);
    let mut in_quote = false;
    // Words are runs of ASCII letters, digits and `_` outside quotes; everything else is copied
    // as it is. Slicing at ASCII boundaries keeps multi-byte characters whole.
    let bytes = expression.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !in_quote && (b.is_ascii_alphanumeric() || b == b'_') {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &expression[start..i];
            out.push_str(word);
            if inputs.iter().any(|(id, _)| id == word) {
                let _ = write!(out, "_{index}");
            }
            continue;
        }
        if b == b'"' || b == b'\'' {
            in_quote = !in_quote;
        }
        let end = i + expression[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&expression[i..end]);
        i = end;
    }
    out
}

fn metric_row(m: &Metric, id: Option<&str>, visible: bool, widget_region: Option<&str>) -> Value {
    let mut row = vec![Value::str(m.namespace.as_str()), Value::str(m.name.as_str())];
    for (k, v) in &m.dimensions {
        row.push(Value::str(k.as_str()));
        row.push(Value::str(v.as_str()));
    }
    let mut options = Map::new().with("stat", m.stat.name()).with("period", m.period);
    if let Some(l) = &m.label {
        options.insert("label", l.as_str());
    }
    if let Some(r) = m.region.as_deref().filter(|r| Some(*r) != widget_region) {
        options.insert("region", r);
    }
    if let Some(id) = id {
        options.insert("id", id);
    }
    if !visible {
        options.insert("visible", false);
    }
    row.push(Value::Map(options));
    Value::List(row)
}

/// `SEARCH` over every model's series of a Bedrock metric: a dashboard line per model without a
/// model list in the config, over the metric's whole retention.
pub fn bedrock_per_model(metric: &str, stat: Stat, period: u32) -> MetricSource {
    per_series_search("AWS/Bedrock", "ModelId", metric, stat, period, format!("{metric} by model"))
}

/// `SEARCH('{namespace,dimension} MetricName="metric"', stat, period)`: one line per series.
fn per_series_search(namespace: &str, dimension: &str, metric: &str, stat: Stat, period: u32, label: String) -> MetricSource {
    MetricSource::Math {
        expression: format!("SEARCH('{{{namespace},{dimension}}} MetricName=\"{metric}\"', '{}', {period})", stat.name()),
        inputs: Vec::new(),
        label,
        period,
    }
}

/// `SEARCH` over every model's model-level series of a bedrock-mantle metric, labelled as
/// usage no principal is charged with.
pub fn mantle_per_model(metric: &str, stat: Stat, period: u32) -> MetricSource {
    use crate::cloudwatch::metric::{MANTLE_MODEL_DIMENSION, MANTLE_NAMESPACE};
    per_series_search(MANTLE_NAMESPACE, MANTLE_MODEL_DIMENSION, metric, stat, period, format!("unattributed (Mantle) {metric} by model"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_wraps_rows_without_overlap() {
        let ws = vec![Widget::text("a"), Widget::graph("b", vec![]), Widget::graph("c", vec![]), Widget::graph("d", vec![]).size(8, 3)];
        let placed = layout(&ws);
        let pos: Vec<(u32, u32)> = placed.iter().map(|p| (p.x, p.y)).collect();
        assert_eq!(pos, vec![(0, 0), (0, 2), (12, 2), (0, 8)]);
    }

    #[test]
    fn expression_ids_get_prefixed() {
        let inputs = vec![("m1".to_owned(), Query::Metric(Metric::bedrock("Invocations"))), ("m2".to_owned(), Query::Metric(Metric::bedrock("Invocations")))];
        assert_eq!(prefix_ids("m1 + m2 * 'm1'", &inputs, 3), "m1_3 + m2_3 * 'm1'");
    }

    #[test]
    fn body_refers_to_region_through_sub() {
        let mut t = Template::new("t");
        let d = Dashboard::new("D", "Ops").widget(Widget::graph("Invocations", vec![MetricSource::Metric(Metric::bedrock("Invocations"))]));
        d.build(&mut t).unwrap();
        let body = t.resource("D").unwrap().properties.get("DashboardBody").unwrap();
        match body.as_intrinsic() {
            Some(crate::cfn::Intrinsic::Sub { template, .. }) => {
                assert!(template.contains("\"region\": \"${AWS::Region}\""), "{template}");
                let json: serde_json::Value = serde_json::from_str(template).unwrap();
                assert_eq!(json["widgets"][0]["properties"]["metrics"][0][1], "Invocations");
            }
            other => panic!("expected Sub, got {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_names() {
        assert!(check_dashboard_name("Bedrock-Ops_1").is_ok());
        assert!(check_dashboard_name("has space").is_err());
    }
}
