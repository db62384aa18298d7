//! Who made a call: the one rule that turns an invocation record's `identity.arn` into a
//! principal, used by the Logs Insights queries, the reports and the quota accounting.
//!
//! - IAM Identity Center sessions (`assumed-role/AWSReservedSSO_<PermissionSet>/<user>`): the
//!   user is the session name.
//! - Other assumed roles: the role name, or `role/session` where the config says sessions are
//!   people (`attribution.sessions_are_people`).
//! - IAM users (`user/<name>`): the user name.
//! - Anything else: the ARN itself.
//!
//! Contributor Insights rules cannot transform a field, so they key on the whole `identity.arn`
//! (which contains the same user name); everything that can compute uses this rule.

/// A caller as the rule resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    SsoUser,
    Role,
    RoleSession,
    IamUser,
    Other,
}

pub const SSO_ROLE_PREFIX: &str = "AWSReservedSSO_";

/// Applies the rule to an ARN.
pub fn principal(arn: &str, sessions_are_people: bool) -> Principal {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let mut parts = resource.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("assumed-role"), Some(role), Some(session)) if role.starts_with(SSO_ROLE_PREFIX) => {
            Principal { kind: PrincipalKind::SsoUser, name: session.to_owned() }
        }
        (Some("assumed-role"), Some(role), Some(session)) if sessions_are_people => {
            Principal { kind: PrincipalKind::RoleSession, name: format!("{role}/{session}") }
        }
        (Some("assumed-role"), Some(role), _) => Principal { kind: PrincipalKind::Role, name: role.to_owned() },
        (Some("user"), Some(first), rest) => {
            // IAM user ARNs may carry a path: user/path/name; the name is the last segment.
            let name = rest.map_or(first, |_| resource.rsplit('/').next().unwrap_or(first));
            Principal { kind: PrincipalKind::IamUser, name: name.to_owned() }
        }
        _ => Principal { kind: PrincipalKind::Other, name: arn.to_owned() },
    }
}

/// The same rule in Logs Insights: commands that leave a `principal` field on every record.
pub fn insights_commands(sessions_are_people: bool) -> String {
    let mut q = String::new();
    q.push_str("parse identity.arn /assumed-role\\/AWSReservedSSO_[^\\/]+\\/(?<sso_user>[^\\/]+)$/\n");
    q.push_str("| parse identity.arn /assumed-role\\/(?<role_name>[^\\/]+)\\/(?<session_name>[^\\/]+)$/\n");
    q.push_str("| parse identity.arn /:user\\/(.*\\/)?(?<iam_user>[^\\/]+)$/\n");
    if sessions_are_people {
        q.push_str("| fields coalesce(sso_user, concat(role_name, \"/\", session_name), iam_user, identity.arn) as principal");
    } else {
        q.push_str("| fields coalesce(sso_user, role_name, iam_user, identity.arn) as principal");
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        let sso = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_BedrockDeveloper_0123abcd/jane.doe@example.com";
        assert_eq!(principal(sso, false), Principal { kind: PrincipalKind::SsoUser, name: "jane.doe@example.com".into() });
        assert_eq!(principal(sso, true).name, "jane.doe@example.com");
        let role = "arn:aws:sts::111122223333:assumed-role/chatbot-prod/i-0abc";
        assert_eq!(principal(role, false), Principal { kind: PrincipalKind::Role, name: "chatbot-prod".into() });
        assert_eq!(principal(role, true), Principal { kind: PrincipalKind::RoleSession, name: "chatbot-prod/i-0abc".into() });
        assert_eq!(principal("arn:aws:iam::111122223333:user/ops/alice", false).name, "alice");
        assert_eq!(principal("arn:aws:iam::111122223333:user/bob", false).name, "bob");
        assert_eq!(principal("arn:aws:iam::111122223333:root", false).kind, PrincipalKind::Other);
        assert_eq!(principal("garbage", false).name, "garbage");
    }
}
