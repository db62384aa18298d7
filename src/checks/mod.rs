//! Built-in checks run on every synthesized template, by `synth` (which refuses to write a
//! failing template) and by `validate` (which prints the findings).
//!
//! They read the finished template, not the builders' intentions, so they hold whatever built
//! it: least privilege (`least_privilege`), no unfixed policy writes
//! (`permissions_management`), that every piece is present and wired
//! (`completeness`), and secure defaults (`security`).

pub mod completeness;
pub mod least_privilege;
pub mod limits;
pub mod permissions_management;
pub mod policies;
pub mod security;

use std::fmt;

use crate::cfn::Template;
use crate::config::Config;

/// Which family a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    LeastPrivilege,
    PermissionsManagement,
    Completeness,
    Security,
    Limits,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::LeastPrivilege => "least-privilege",
            Check::PermissionsManagement => "permissions-management",
            Check::Completeness => "completeness",
            Check::Security => "security",
            Check::Limits => "limits",
        }
    }
}

/// A problem in a template. Any finding fails `synth` and `validate`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub check: Check,
    /// Logical id of the resource, or a template section.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.check.name(), self.location, self.message)
    }
}

fn finding(check: Check, location: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding { check, location: location.into(), message: message.into() }
}

/// Runs every check on one stack's template.
pub fn run(template: &Template, config: &Config, primary: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(least_privilege::check(template));
    findings.extend(permissions_management::check(template));
    findings.extend(completeness::check(template, config, primary));
    findings.extend(security::check(template));
    findings.extend(limits::check(template));
    findings.sort();
    findings
}
