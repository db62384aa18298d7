//! The fields of a Bedrock model-invocation log record (aws-facts.md, "Invocation log record").
//! Every query and rule the stack writes may only use these; a property test checks it.

/// JSON paths (without the `$.` prefix) present in invocation log records.
pub const FIELDS: &[&str] = &[
    "schemaType",
    "schemaVersion",
    "timestamp",
    "accountId",
    "region",
    "requestId",
    "operation",
    "modelId",
    "identity.arn",
    "requestMetadata",
    "input.inputContentType",
    "input.inputBodyJson",
    "input.inputTokenCount",
    "input.cacheReadInputTokenCount",
    "input.cacheWriteInputTokenCount",
    "output.outputContentType",
    "output.outputBodyJson",
    "output.outputTokenCount",
];

/// Whether `path` is a field of the record, or a key under the free-form `requestMetadata`.
pub fn is_field(path: &str) -> bool {
    FIELDS.contains(&path) || path.strip_prefix("requestMetadata.").is_some_and(|k| !k.is_empty())
}

/// Dotted field references in a Logs Insights query (`identity.arn`, `input.inputTokenCount`),
/// outside string literals and `/regex/` literals, for checking them against [`FIELDS`].
pub fn dotted_references(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut prev_significant = ' ';
    let mut escaped = false;
    for c in query.chars().chain(std::iter::once(' ')) {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@' {
            word.push(c);
            continue;
        }
        if word.contains('.') && !word.starts_with('@') && !word.chars().next().is_some_and(|f| f.is_ascii_digit()) {
            out.push(word.clone());
        }
        word.clear();
        // A slash right after `parse <field>` starts a regex literal, like a quote.
        if c == '"' || c == '\'' || (c == '/' && prev_significant != ')' && !prev_significant.is_ascii_alphanumeric()) {
            quote = Some(c);
        }
        if !c.is_whitespace() {
            prev_significant = c;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_dotted_fields_outside_literals() {
        let q = "fields @timestamp, identity.arn\n| parse identity.arn /assumed-role\\/(?<a>[^.]+)/\n| filter modelId = \"a.b\"\n| stats sum(input.inputTokenCount) / 1000.5 by requestMetadata.team";
        assert_eq!(dotted_references(q), vec!["identity.arn", "identity.arn", "input.inputTokenCount", "requestMetadata.team"]);
    }
}
