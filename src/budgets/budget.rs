//! `AWS::Budgets::Budget`: a monthly cost budget for one service, notifying a topic and e-mails
//! when actual spend passes a share of the limit or the forecast passes the limit.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::sns::TopicRef;

/// Budgets accept at most this many e-mail subscribers per notification.
pub const MAX_EMAIL_SUBSCRIBERS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    Actual,
    Forecasted,
}

#[derive(Debug, Clone)]
pub struct Budget {
    logical_id: String,
    name: String,
    service: String,
    monthly_limit_usd: f64,
    notifications: Vec<(NotificationKind, f64)>,
    topic: Option<TopicRef>,
    emails: Vec<String>,
}

impl Budget {
    /// A monthly budget of `monthly_limit_usd` on the cost of `service` (as Cost Explorer names
    /// it, e.g. "Amazon Bedrock").
    pub fn monthly(logical_id: impl Into<String>, name: impl Into<String>, service: &str, monthly_limit_usd: f64) -> Self {
        Budget {
            logical_id: logical_id.into(),
            name: name.into(),
            service: service.to_owned(),
            monthly_limit_usd,
            notifications: Vec::new(),
            topic: None,
            emails: Vec::new(),
        }
    }

    /// Notifies when `kind` spend passes `percent` of the limit.
    pub fn notify_at(mut self, kind: NotificationKind, percent: f64) -> Self {
        self.notifications.push((kind, percent));
        self
    }

    pub fn topic(mut self, topic: &TopicRef) -> Self {
        self.topic = Some(topic.clone());
        self
    }

    pub fn emails(mut self, emails: &[String]) -> Self {
        self.emails = emails.to_vec();
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if !(self.monthly_limit_usd.is_finite() && self.monthly_limit_usd > 0.0) {
            return Err(CfnError::invalid("budgets::Budget", "the monthly limit must be a positive amount"));
        }
        if self.emails.len() > MAX_EMAIL_SUBSCRIBERS {
            return Err(CfnError::invalid("budgets::Budget", format!("at most {MAX_EMAIL_SUBSCRIBERS} e-mail subscribers")));
        }
        let mut subscribers: Vec<Value> = Vec::new();
        if let Some(t) = &self.topic {
            subscribers.push(Map::new().with("SubscriptionType", "SNS").with("Address", t.arn()).into());
        }
        subscribers.extend(self.emails.iter().map(|e| Value::Map(Map::new().with("SubscriptionType", "EMAIL").with("Address", e.as_str()))));
        if subscribers.is_empty() {
            return Err(CfnError::invalid("budgets::Budget", "a budget needs a topic or an e-mail to notify"));
        }
        let notifications = self
            .notifications
            .iter()
            .map(|(kind, percent)| {
                let n = Map::new()
                    .with("NotificationType", if *kind == NotificationKind::Actual { "ACTUAL" } else { "FORECASTED" })
                    .with("ComparisonOperator", "GREATER_THAN")
                    .with("Threshold", Value::from(*percent))
                    .with("ThresholdType", "PERCENTAGE");
                Value::Map(Map::new().with("Notification", n).with("Subscribers", Value::List(subscribers.clone())))
            })
            .collect::<Vec<_>>();
        let budget = Map::new()
            .with("BudgetName", self.name.as_str())
            .with("BudgetType", "COST")
            .with("TimeUnit", "MONTHLY")
            .with("BudgetLimit", Map::new().with("Amount", Value::from(self.monthly_limit_usd)).with("Unit", "USD"))
            .with("CostFilters", Map::new().with("Service", Value::list([self.service.as_str()])));
        let props = Map::new().with("Budget", budget).with("NotificationsWithSubscribers", Value::List(notifications));
        template.add(&self.logical_id, Resource::new("AWS::Budgets::Budget", props))
    }
}
