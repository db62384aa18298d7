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
