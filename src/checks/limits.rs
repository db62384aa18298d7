//! CloudWatch limits, checked on the finished template: an alarm has at most 5 actions per
//! state and 10 metrics in metric math, period × evaluation periods at most one day; a dashboard
//! has at most 500 widgets and 500 metrics per widget, on the 24-column grid without overlaps.
//! The builders refuse to exceed these; this check holds whatever built the template.

use crate::cfn::{Template, Value};
use crate::cloudwatch::alarm::{MAX_ACTIONS, MAX_EVALUATION_SECONDS, MAX_MATH_METRICS};
use crate::cloudwatch::dashboard::{body_text, GRID_COLUMNS, MAX_METRICS_PER_WIDGET, MAX_WIDGETS};
use crate::cloudwatch::metric::expression_ids;

use super::{finding, Check, Finding};

pub fn check(t: &Template) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, r) in &t.resources {
        match r.resource_type.as_str() {
            "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm" => alarm(id, &r.properties, &mut out),
            "AWS::CloudWatch::Dashboard" => dashboard(id, &r.properties, &mut out),
            _ => {}
        }
    }
    out
}

fn count(v: Option<&Value>) -> usize {
    v.and_then(Value::as_list).map_or(0, <[Value]>::len)
}

fn number(v: Option<&Value>) -> Option<u64> {
    match v {
        Some(Value::Int(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn alarm(id: &str, p: &crate::cfn::Map, out: &mut Vec<Finding>) {
    for key in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
        if count(p.get(key)) > MAX_ACTIONS {
            out.push(finding(Check::Limits, id, format!("{key} has more than {MAX_ACTIONS} actions")));
        }
    }
    let metrics: Vec<&crate::cfn::Map> = p.get("Metrics").and_then(Value::as_list).unwrap_or(&[]).iter().filter_map(Value::as_map).collect();
    let inputs = metrics.iter().filter(|m| m.get("ReturnData") != Some(&Value::Bool(true))).count();
    if inputs > MAX_MATH_METRICS {
        out.push(finding(Check::Limits, id, format!("metric math reads {inputs} metrics; at most {MAX_MATH_METRICS}")));
    }
    let ids: Vec<&str> = metrics.iter().filter_map(|m| m.get("Id").and_then(Value::as_str)).collect();
    for m in &metrics {
        if let Some(expr) = m.get("Expression").and_then(Value::as_str) {
            for used in expression_ids(expr) {
                if !ids.contains(&used.as_str()) {
                    out.push(finding(Check::Limits, id, format!("expression `{expr}` uses `{used}`, which the alarm does not define")));
                }
            }
        }
    }
    let period = number(p.get("Period")).or_else(|| {
        metrics.iter().find_map(|m| number(m.get("Period")).or_else(|| number(m.get("MetricStat").and_then(Value::as_map).and_then(|s| s.get("Period")))))
    });
    if let (Some(period), Some(evaluations)) = (period, number(p.get("EvaluationPeriods"))) {
        if period * evaluations > u64::from(MAX_EVALUATION_SECONDS) {
            out.push(finding(Check::Limits, id, format!("period {period}s × {evaluations} evaluation periods exceeds one day")));
        }
    }
}

fn dashboard(id: &str, p: &crate::cfn::Map, out: &mut Vec<Finding>) {
    let Some(body) = body_text(p) else { return };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        out.push(finding(Check::Limits, id, "the dashboard body is not valid JSON"));
        return;
    };
    let widgets = json["widgets"].as_array().cloned().unwrap_or_default();
    if widgets.len() > MAX_WIDGETS {
        out.push(finding(Check::Limits, id, format!("{} widgets; at most {MAX_WIDGETS}", widgets.len())));
    }
    let mut boxes: Vec<(u64, u64, u64, u64, String)> = Vec::new();
    for w in &widgets {
        let title = w["properties"]["title"].as_str().unwrap_or("(text)").to_owned();
        let n = |k: &str| w[k].as_u64().unwrap_or(0);
        let (x, y, width, height) = (n("x"), n("y"), n("width"), n("height"));
        if x + width > u64::from(GRID_COLUMNS) || width == 0 || height == 0 {
            out.push(finding(Check::Limits, id, format!("widget `{title}` does not fit the {GRID_COLUMNS}-column grid")));
        }
        if let Some((.., other)) = boxes.iter().find(|(bx, by, bw, bh, _)| x < bx + bw && *bx < x + width && y < by + bh && *by < y + height) {
            out.push(finding(Check::Limits, id, format!("widget `{title}` overlaps `{other}`")));
        }
        boxes.push((x, y, width, height, title.clone()));
        let rows = w["properties"]["metrics"].as_array().cloned().unwrap_or_default();
        if rows.len() > MAX_METRICS_PER_WIDGET {
            out.push(finding(Check::Limits, id, format!("widget `{title}` has {} metrics; at most {MAX_METRICS_PER_WIDGET}", rows.len())));
        }
        let defined: Vec<String> = rows.iter().filter_map(|r| r.as_array()?.last()?.get("id")?.as_str().map(str::to_owned)).collect();
        for r in &rows {
            let Some(expr) = r.as_array().and_then(|a| a.last()).and_then(|o| o.get("expression")).and_then(|e| e.as_str()) else { continue };
            for used in expression_ids(expr) {
                if !defined.contains(&used) {
                    out.push(finding(Check::Limits, id, format!("widget `{title}`: expression `{expr}` uses `{used}`, which the widget does not define")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Map, Resource};

    fn dashboard_with(widgets: serde_json::Value) -> Template {
        let mut t = Template::new("t");
        let body = serde_json::json!({ "widgets": widgets }).to_string();
        t.add("D", Resource::new("AWS::CloudWatch::Dashboard", Map::new().with("DashboardBody", body))).unwrap();
        t
    }

    #[test]
    fn overlapping_and_off_grid_widgets_are_found() {
        let t = dashboard_with(serde_json::json!([
            {"type": "text", "x": 0, "y": 0, "width": 12, "height": 2, "properties": {"title": "a"}},
            {"type": "text", "x": 6, "y": 1, "width": 12, "height": 2, "properties": {"title": "b"}},
            {"type": "text", "x": 20, "y": 9, "width": 6, "height": 2, "properties": {"title": "c"}},
        ]));
        let msgs: Vec<String> = check(&t).into_iter().map(|f| f.message).collect();
        assert!(msgs.iter().any(|m| m.contains("`b` overlaps `a`")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("`c` does not fit")), "{msgs:?}");
    }

    #[test]
    fn undefined_expression_ids_are_found() {
        let t = dashboard_with(serde_json::json!([
            {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {"title": "g", "metrics": [
                [{"expression": "m1 + m2", "id": "e1"}],
                ["AWS/Bedrock", "Invocations", {"id": "m1"}]
            ]}}
        ]));
        let msgs: Vec<String> = check(&t).into_iter().map(|f| f.message).collect();
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("uses `m2`"));
    }

    #[test]
    fn alarm_limits_are_found() {
        let mut t = Template::new("t");
        let actions = Value::list((0..6).map(|i| Value::str(format!("arn:{i}"))));
        let props = Map::new().with("AlarmActions", actions).with("Period", 3600).with("EvaluationPeriods", 25);
        t.add("A", Resource::new("AWS::CloudWatch::Alarm", props)).unwrap();
        let msgs: Vec<String> = check(&t).into_iter().map(|f| f.message).collect();
        assert!(msgs.iter().any(|m| m.contains("more than 5 actions")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("exceeds one day")), "{msgs:?}");
    }
}
