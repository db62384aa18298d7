//! `AWS::SNS::Topic` encrypted with a customer-managed key, and `AWS::SNS::Subscription`s.

use crate::cfn::{logical_id_fragment as fragment, CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::kms::KeyRef;

#[derive(Debug, Clone)]
pub struct Topic {
    logical_id: String,
    display_name: Option<String>,
    key: KeyRef,
    emails: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRef(pub ResourceRef);

impl TopicRef {
    pub fn arn(&self) -> Value {
        self.0.reference()
    }

    pub fn logical_id(&self) -> &str {
        self.0.logical_id()
    }
}

impl Topic {
    /// A topic encrypted with `key`. There is no unencrypted variant: the key is what lets
    /// CloudWatch publish (see `kms::key`).
    pub fn new(logical_id: impl Into<String>, key: &KeyRef) -> Self {
        Topic { logical_id: logical_id.into(), display_name: None, key: key.clone(), emails: Vec::new() }
    }

    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Subscribes an e-mail address (the recipient confirms by e-mail).
    pub fn email(mut self, address: impl Into<String>) -> Self {
        self.emails.push(address.into());
        self
    }

    pub fn build(self, template: &mut Template) -> Result<TopicRef, CfnError> {
        let props = Map::new().with_opt("DisplayName", self.display_name).with("KmsMasterKeyId", self.key.arn());
        let topic = TopicRef(template.add(&self.logical_id, Resource::new("AWS::SNS::Topic", props))?);
        for (i, email) in self.emails.iter().enumerate() {
            if !is_plausible_email(email) {
                return Err(CfnError::invalid("sns::Topic", format!("`{email}` is not an e-mail address")));
            }
            let id = format!("{}Email{}{}", self.logical_id, i + 1, fragment(email.split('@').next().unwrap_or("")));
            let props = Map::new().with("TopicArn", topic.arn()).with("Protocol", "email").with("Endpoint", email.as_str());
            template.add(&truncate_id(&id), Resource::new("AWS::SNS::Subscription", props))?;
        }
        Ok(topic)
    }
}

fn truncate_id(id: &str) -> String {
    id.chars().take(crate::cfn::template::MAX_LOGICAL_ID_LEN).collect()
}

/// A light shape check (one `@`, a dot in the domain, no spaces); SNS confirms the rest.
pub fn is_plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !s.contains(char::is_whitespace) && !domain.contains('@')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(is_plausible_email("ops@example.com"));
        assert!(!is_plausible_email("ops@example"));
        assert!(!is_plausible_email("ops example.com"));
        assert!(!is_plausible_email("@example.com"));
    }
}
