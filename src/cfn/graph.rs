//! The template's resources and the references between them, as a Mermaid `flowchart`.
//!
//! A reviewer reads a stack's wiring faster as a picture than as YAML: which alarm notifies which
//! topic, what the key encrypts, what waits for what. The edges come from the same reference
//! walker the validator uses ([`Value::visit_references`]), so the graph shows exactly what
//! CloudFormation will resolve. Output is deterministic: nodes in template order, edges sorted.

use std::collections::{BTreeMap, BTreeSet};

use super::template::Template;
use super::value::{Reference, Value};

/// How one resource points at another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    Ref,
    GetAtt,
    Sub,
    DependsOn,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Ref => "Ref",
            EdgeKind::GetAtt => "GetAtt",
            EdgeKind::Sub => "Sub",
            EdgeKind::DependsOn => "DependsOn",
        }
    }
}

/// A node: a resource or a parameter of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub logical_id: String,
    /// The resource type, or `Parameter (Type)` for a parameter.
    pub label_type: String,
    pub is_parameter: bool,
}

/// An edge from the resource that refers to the one it refers to, with every way it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kinds: BTreeSet<EdgeKind>,
}

/// The reference graph of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Graph {
    /// Resources and parameters as nodes; a resource's references to other nodes (pseudo
    /// parameters and unresolved names are left out) and its `DependsOn` as edges.
    pub fn of(template: &Template) -> Graph {
        let mut nodes: Vec<Node> = template
            .parameters
            .iter()
            .map(|(id, p)| Node { logical_id: id.clone(), label_type: format!("Parameter ({})", p.parameter_type), is_parameter: true })
            .collect();
        nodes.extend(template.resources.iter().map(|(id, r)| Node { logical_id: id.clone(), label_type: r.resource_type.clone(), is_parameter: false }));
        let known: BTreeSet<&str> = nodes.iter().map(|n| n.logical_id.as_str()).collect();

        let mut edges: BTreeMap<(String, String), BTreeSet<EdgeKind>> = BTreeMap::new();
        for (id, resource) in &template.resources {
            let mut add = |to: &str, kind: EdgeKind| {
                if known.contains(to) && to != id {
                    edges.entry((id.clone(), to.to_owned())).or_default().insert(kind);
                }
            };
            Value::Map(resource.properties.clone()).visit_references(&mut |r| {
                let kind = match r {
                    Reference::Ref(_) => EdgeKind::Ref,
                    Reference::GetAtt { .. } => EdgeKind::GetAtt,
                    Reference::Sub(_) => EdgeKind::Sub,
                };
                add(r.target(), kind);
            });
            for dep in &resource.depends_on {
                add(dep, EdgeKind::DependsOn);
            }
        }
        let edges = edges.into_iter().map(|((from, to), kinds)| Edge { from, to, kinds }).collect();
        Graph { nodes, edges }
    }

    /// A Mermaid `flowchart LR`: one node per resource labelled with its logical id and type,
    /// parameters as rounded nodes, one labelled arrow per referring pair.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for n in &self.nodes {
            let label = format!("{}<br/>{}", mermaid_text(&n.logical_id), mermaid_text(&n.label_type));
            let (open, close) = if n.is_parameter { ("([\"", "\"])") } else { ("[\"", "\"]") };
            out.push_str(&format!("  {}{open}{label}{close}\n", node_id(&n.logical_id)));
        }
        for e in &self.edges {
            let label: Vec<&str> = e.kinds.iter().map(|k| k.as_str()).collect();
            out.push_str(&format!("  {} -->|{}| {}\n", node_id(&e.from), label.join(", "), node_id(&e.to)));
        }
        out
    }
}

/// A Mermaid node id that cannot collide with a keyword (`end`, `graph`, `subgraph`) or start an
/// edge shape (`o`, `x` after `--`): a fixed prefix plus the id with anything but ASCII letters,
/// digits and `_` replaced (logical ids are alphanumeric already; parameters could be renamed).
pub fn node_id(logical_id: &str) -> String {
    let safe: String = logical_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("n_{safe}")
}

/// Text inside a quoted Mermaid label: quotes and angle brackets as Mermaid's `#name;` entities,
/// so a label can never end the string or open an HTML tag.
pub fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Map, Parameter, Resource, Sub};

    fn sample() -> Template {
        let mut t = Template::new("t");
        t.add_parameter("Email", Parameter { parameter_type: "String".into(), description: None, default: None, allowed_values: vec![] }).unwrap();
        t.add("Key", Resource::new("AWS::KMS::Key", Map::new())).unwrap();
        t.add("Topic", Resource::new("AWS::SNS::Topic", Map::new().with("KmsMasterKeyId", Value::get_att("Key", "Arn")).with("Endpoint", Value::reference("Email"))))
            .unwrap();
        let props = Map::new()
            .with("AlarmActions", Value::list([Value::reference("Topic")]))
            .with("Description", Sub::new().text("in ").pseudo(crate::cfn::Pseudo::Region).text(" via ").get_att("Topic", "TopicName").build())
            .with("Own", Value::reference("Alarm"));
        t.add("Alarm", Resource::new("AWS::CloudWatch::Alarm", props).depends_on("Key")).unwrap();
        t
    }

    #[test]
    fn edges_carry_every_kind_and_skip_pseudo_and_self() {
        let g = Graph::of(&sample());
        let edges: Vec<(String, String, Vec<EdgeKind>)> = g.edges.iter().map(|e| (e.from.clone(), e.to.clone(), e.kinds.iter().copied().collect())).collect();
        assert_eq!(
            edges,
            vec![
                ("Alarm".into(), "Key".into(), vec![EdgeKind::DependsOn]),
                ("Alarm".into(), "Topic".into(), vec![EdgeKind::Ref, EdgeKind::Sub]),
                ("Topic".into(), "Email".into(), vec![EdgeKind::Ref]),
                ("Topic".into(), "Key".into(), vec![EdgeKind::GetAtt]),
            ]
        );
    }

    #[test]
    fn mermaid_has_labelled_nodes_and_edges() {
        let m = Graph::of(&sample()).to_mermaid();
        assert!(m.starts_with("flowchart LR\n"), "{m}");
        assert!(m.contains("  n_Email([\"Email<br/>Parameter (String)\"])\n"), "{m}");
        assert!(m.contains("  n_Key[\"Key<br/>AWS::KMS::Key\"]\n"), "{m}");
        assert!(m.contains("  n_Alarm -->|Ref, Sub| n_Topic\n"), "{m}");
        assert!(m.contains("  n_Alarm -->|DependsOn| n_Key\n"), "{m}");
    }

    #[test]
    fn ids_and_labels_are_safe() {
        assert_eq!(node_id("end"), "n_end");
        assert_eq!(node_id("a-b c"), "n_a_b_c");
        assert_eq!(mermaid_text("a \"b\" <c> #d\ne"), "a #quot;b#quot; #lt;c#gt; #35;d e");
    }
}
