//! The states a stack is found in, and what each means for the next command: CloudFormation's
//! status names are precise but not self-explanatory ("ROLLBACK_COMPLETE" is a failed stack).

/// What deploy can do with a stack in a given state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No stack: create it.
    Missing,
    /// Created by a CREATE change set that never ran (`--no-execute`): still a CREATE.
    Review,
    /// Settled and updatable.
    Ready,
    /// Another operation is running: wait for it.
    InProgress,
    /// The first create failed and rolled back; the stack holds nothing and cannot be updated.
    RollbackComplete,
    /// An update failed and so did its rollback.
    UpdateRollbackFailed,
    /// Any other failed state (CREATE_FAILED, DELETE_FAILED, ROLLBACK_FAILED, ...).
    Failed,
}

pub fn classify(status: Option<&str>) -> Found {
    match status {
        None => Found::Missing,
        Some("REVIEW_IN_PROGRESS") => Found::Review,
        Some("ROLLBACK_COMPLETE") => Found::RollbackComplete,
        Some("UPDATE_ROLLBACK_FAILED") => Found::UpdateRollbackFailed,
        Some(s) if s.ends_with("_IN_PROGRESS") => Found::InProgress,
        Some(s) if s.ends_with("_FAILED") => Found::Failed,
        Some(_) => Found::Ready,
    }
}

/// True when no operation is running on the stack.
pub fn is_settled(status: &str) -> bool {
    status == "REVIEW_IN_PROGRESS" || !status.ends_with("_IN_PROGRESS")
}

/// True when an operation ended as asked (not rolled back, not failed).
pub fn succeeded(status: &str) -> bool {
    matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE")
}

/// What happened after a failure, in words.
pub fn rollback_outcome(status: &str) -> String {
    match status {
        "ROLLBACK_COMPLETE" => "the create was rolled back: the stack holds no resources; deploy again to delete it and create it anew".into(),
        "ROLLBACK_FAILED" => "the create's rollback failed too: delete the stack (resources that failed to delete are listed in its events)".into(),
        "UPDATE_ROLLBACK_COMPLETE" => "the update was rolled back: the stack is as it was before, and can be updated again".into(),
        "UPDATE_ROLLBACK_FAILED" => format!("the update's rollback failed too: {}", UPDATE_ROLLBACK_FAILED_WAY_OUT),
        "DELETE_FAILED" => "the delete failed: the stack remains; fix the resource named above and destroy again".into(),
        other => format!("the stack ended in {other}"),
    }
}

/// The documented way out of UPDATE_ROLLBACK_FAILED.
pub const UPDATE_ROLLBACK_FAILED_WAY_OUT: &str = "fix the cause named in the stack events (e.g. a resource changed or deleted outside CloudFormation), then continue the rollback: `aws cloudformation continue-update-rollback --stack-name STACK` (add `--resources-to-skip ID` for a resource that cannot be rolled back); the stack becomes UPDATE_ROLLBACK_COMPLETE and can be deployed again";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_what_deploy_does() {
        assert_eq!(classify(None), Found::Missing);
        assert_eq!(classify(Some("REVIEW_IN_PROGRESS")), Found::Review);
        assert_eq!(classify(Some("UPDATE_IN_PROGRESS")), Found::InProgress);
        assert_eq!(classify(Some("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")), Found::InProgress);
        assert_eq!(classify(Some("ROLLBACK_COMPLETE")), Found::RollbackComplete);
        assert_eq!(classify(Some("UPDATE_ROLLBACK_FAILED")), Found::UpdateRollbackFailed);
        assert_eq!(classify(Some("DELETE_FAILED")), Found::Failed);
        assert_eq!(classify(Some("UPDATE_ROLLBACK_COMPLETE")), Found::Ready);
        assert_eq!(classify(Some("CREATE_COMPLETE")), Found::Ready);
    }

    #[test]
    fn settled_and_succeeded() {
        assert!(is_settled("REVIEW_IN_PROGRESS") && is_settled("ROLLBACK_COMPLETE") && !is_settled("CREATE_IN_PROGRESS"));
        assert!(succeeded("UPDATE_COMPLETE") && !succeeded("UPDATE_ROLLBACK_COMPLETE") && !succeeded("ROLLBACK_COMPLETE"));
        assert!(rollback_outcome("UPDATE_ROLLBACK_FAILED").contains("continue-update-rollback"));
    }
}
