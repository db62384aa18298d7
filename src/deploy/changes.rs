//! A change set as the user reads it: one line per resource, replacements called out, and the
//! data stores whose replacement would lose data singled out for confirmation.

use super::client::{Action, ChangeSetInfo, Replacement, ResourceChange};
use super::template::DATA_STORE_TYPES;

/// The reason CloudFormation gives a change set with nothing to do (it marks it FAILED).
pub fn is_no_change(info: &ChangeSetInfo) -> bool {
    let reason = info.status_reason.as_deref().unwrap_or("");
    info.status == "FAILED" && (reason.contains("didn't contain changes") || reason.contains("No updates are to be performed"))
}

fn is_replacing(c: &ResourceChange) -> bool {
    c.action == Action::Modify && c.replacement != Replacement::False
}

/// Data stores (buckets, log groups, tables, keys) the change set would replace: each needs an
/// explicit confirmation, because a replacement creates an empty one.
pub fn data_store_replacements(changes: &[ResourceChange]) -> Vec<&ResourceChange> {
    changes.iter().filter(|c| is_replacing(c) && DATA_STORE_TYPES.contains(&c.resource_type.as_str())).collect()
}

/// The listing, one line per change, in the order CloudFormation returned them, then a count.
pub fn render(changes: &[ResourceChange]) -> String {
    let mut out = String::new();
    if changes.is_empty() {
        out.push_str("  (no resource changes)\n");
    }
    let width = changes.iter().map(|c| c.resource_type.len()).max().unwrap_or(0);
    for c in changes {
        let action = match c.action {
            Action::Add => "+ add   ",
            Action::Modify => "~ modify",
            Action::Remove => "- remove",
            Action::Import => "> import",
            Action::Other => "? other ",
        };
        let replacement = match (is_replacing(c), c.replacement) {
            (true, Replacement::True) => "  REPLACED",
            (true, _) => "  MAY BE REPLACED (conditional)",
            _ => "",
        };
        let data = if is_replacing(c) && DATA_STORE_TYPES.contains(&c.resource_type.as_str()) { "  !! data store: its contents do not move to the new one" } else { "" };
        out.push_str(&format!("  {action} {:<width$}  {}{replacement}{data}\n", c.resource_type, c.logical_id));
    }
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    let replaced = changes.iter().filter(|c| is_replacing(c)).count();
    out.push_str(&format!("  {} to add, {} to modify ({} replaced), {} to remove\n", count(Action::Add), count(Action::Modify), replaced, count(Action::Remove)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, id: &str, ty: &str, replacement: Replacement) -> ResourceChange {
        ResourceChange { action, logical_id: id.into(), resource_type: ty.into(), replacement }
    }

    pub(crate) fn sample() -> Vec<ResourceChange> {
        vec![
            change(Action::Add, "HighLatencyAlarm", "AWS::CloudWatch::Alarm", Replacement::False),
            change(Action::Modify, "InvocationLogGroup", "AWS::Logs::LogGroup", Replacement::False),
            change(Action::Modify, "LogBucket", "AWS::S3::Bucket", Replacement::True),
            change(Action::Modify, "AlertTopic", "AWS::SNS::Topic", Replacement::Conditional),
            change(Action::Remove, "OldDashboard", "AWS::CloudWatch::Dashboard", Replacement::False),
        ]
    }

    #[test]
    fn only_replaced_data_stores_need_confirmation() {
        let c = sample();
        let ids: Vec<_> = data_store_replacements(&c).iter().map(|c| c.logical_id.as_str()).collect();
        assert_eq!(ids, ["LogBucket"]);
        // A conditional replacement of a data store counts too; an in-place modify does not.
        let conditional = vec![change(Action::Modify, "Table", "AWS::DynamoDB::Table", Replacement::Conditional)];
        assert_eq!(data_store_replacements(&conditional).len(), 1);
        assert!(data_store_replacements(&c[..2]).is_empty());
    }

    #[test]
    fn the_listing_marks_replacements() {
        let text = render(&sample());
        assert!(text.contains("~ modify AWS::S3::Bucket             LogBucket  REPLACED  !! data store"), "{text}");
        assert!(text.contains("AlertTopic  MAY BE REPLACED (conditional)\n"), "{text}");
        assert!(text.contains("1 to add, 3 to modify (2 replaced), 1 to remove"), "{text}");
    }

    #[test]
    fn snapshot_of_a_change_set_listing() {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!("deploy_change_set_listing", render(&sample())));
    }

    #[test]
    fn no_change_is_recognised_by_status_and_reason() {
        let mut info = ChangeSetInfo { status: "FAILED".into(), status_reason: Some("The submitted information didn't contain changes. Submit different information to create a change set.".into()), changes: vec![] };
        assert!(is_no_change(&info));
        info.status_reason = Some("Template error: unresolved resource dependencies".into());
        assert!(!is_no_change(&info));
    }
}
