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
    let widgets = match serde_json::from_str::<body::Body>(body) {
        Ok(b) => b.widgets,
        Err(e) => {
            out.push(finding(Check::Limits, id, format!("the dashboard body is not valid dashboard JSON: {e}")));
            return;
        }
    };
    if widgets.len() > MAX_WIDGETS {
        out.push(finding(Check::Limits, id, format!("{} widgets; at most {MAX_WIDGETS}", widgets.len())));
    }
    let mut boxes: Vec<(u64, u64, u64, u64, &str)> = Vec::new();
    for w in &widgets {
        let title = w.properties.title.as_deref().unwrap_or("(text)");
        let (x, y, width, height) = (w.x, w.y, w.width, w.height);
        if x + width > u64::from(GRID_COLUMNS) || width == 0 || height == 0 {
            out.push(finding(Check::Limits, id, format!("widget `{title}` does not fit the {GRID_COLUMNS}-column grid")));
        }
        if let Some((.., other)) = boxes.iter().find(|(bx, by, bw, bh, _)| x < bx + bw && *bx < x + width && y < by + bh && *by < y + height) {
            out.push(finding(Check::Limits, id, format!("widget `{title}` overlaps `{other}`")));
        }
        boxes.push((x, y, width, height, title));
        let rows = &w.properties.metrics;
        if rows.len() > MAX_METRICS_PER_WIDGET {
            out.push(finding(Check::Limits, id, format!("widget `{title}` has {} metrics; at most {MAX_METRICS_PER_WIDGET}", rows.len())));
        }
        let defined: Vec<&str> = rows.iter().filter_map(|r| r.id.as_deref()).collect();
        for expr in rows.iter().filter_map(|r| r.expression.as_deref()) {
            for used in expression_ids(expr) {
                if !defined.contains(&used.as_str()) {
                    out.push(finding(Check::Limits, id, format!("widget `{title}`: expression `{expr}` uses `{used}`, which the widget does not define")));
                }
            }
        }
    }
}

/// The parts of a dashboard body this check reads, borrowed from the text; everything else is
/// skipped unparsed (a typed read costs a fraction of a `serde_json::Value` tree).
mod body {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Body<'a> {
        #[serde(borrow, default)]
        pub widgets: Vec<Widget<'a>>,
    }

    #[derive(Deserialize)]
    pub struct Widget<'a> {
        #[serde(default)]
        pub x: u64,
        #[serde(default)]
        pub y: u64,
        #[serde(default)]
        pub width: u64,
        #[serde(default)]
        pub height: u64,
        #[serde(borrow, default)]
        pub properties: Properties<'a>,
    }

    #[derive(Deserialize, Default)]
    pub struct Properties<'a> {
        #[serde(borrow, default)]
        pub title: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub metrics: Vec<Row<'a>>,
    }

    /// A metric row (`[namespace, name, ..., {options}]` or `[{expression options}]`): only the
    /// `id` and `expression` of its trailing options object matter here.
    #[derive(Default)]
    pub struct Row<'a> {
        pub id: Option<Cow<'a, str>>,
        pub expression: Option<Cow<'a, str>>,
    }

    #[derive(Deserialize)]
    struct Options<'a> {
        #[serde(borrow, default)]
        id: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        expression: Option<Cow<'a, str>>,
    }

    /// One element of a row: a string or number, or the options object.
    struct Element<'a>(Option<Options<'a>>);

    impl<'de: 'a, 'a> Deserialize<'de> for Element<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<'a>(std::marker::PhantomData<&'a ()>);
            impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                type Value = Element<'a>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a metric row element")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Element<'a>, A::Error> {
                    Options::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|o| Element(Some(o)))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element<'a>, A::Error> {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(Element(None))
                }
                fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Element<'a>, E> {
                    Ok(Element(None))
                }
                fn visit_str<E>(self, _: &str) -> Result<Element<'a>, E> {
                    Ok(Element(None))
                }
                fn visit_u64<E>(self, _: u64) -> Result<Element<'a>, E> {
                    Ok(Element(None))
                }
                fn visit_i64<E>(self, _: i64) -> Result<Element<'a>, E> {
                    Ok(Element(None))
                }
                fn visit_f64<E>(self, _: f64) -> Result<Element<'a>, E> {
                    Ok(Element(None))
                }
                fn visit_bool<E>(self, _: bool) -> Result<Element<'a>, E> {
                    Ok(Element(None))
                }
                fn visit_unit<E>(self) -> Result<Element<'a>, E> {
                    Ok(Element(None))
                }
            }
            d.deserialize_any(V(std::marker::PhantomData))
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Row<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let elements: Vec<Element<'a>> = Vec::deserialize(d)?;
            Ok(elements.into_iter().last().and_then(|e| e.0).map_or_else(Row::default, |o| Row { id: o.id, expression: o.expression }))
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
