//! Failures talking to AWS as plain values: what the CLI prints and how a failure is classified,
//! independent of the SDK's generic error types so that it is unit-tested (and built) without it.

/// Attempts per API call (the first try plus retries) under the SDK's standard retry strategy
/// with exponential backoff and jitter. Five rides out the throttling bursts a busy account
/// sees while a stack is polled.
pub const MAX_ATTEMPTS: u32 = 5;

/// Where to connect: the CLI's `--region` and `--profile`, both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub region: Option<String>,
    pub profile: Option<String>,
}

/// The kind of an SDK failure and its text, detached from the SDK's generic error types so the
/// classification can be unit-tested with plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFacts {
    pub kind: FailureKind,
    /// The service's error code (`ThrottlingException`, `ValidationError`, ...), if it answered.
    pub code: Option<String>,
    pub message: Option<String>,
    /// The whole error chain as text.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The service answered with an error.
    Service,
    /// The request never got an answer: connection refused, DNS, TLS, credentials not resolved.
    Dispatch,
    Timeout,
    /// The request could not be built (invalid input, or no credentials to sign it).
    Construction,
    /// The answer could not be read.
    Response,
}

/// Which call failed, where: the parts of a message the user needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorContext {
    pub operation: &'static str,
    pub region: String,
    pub profile: String,
    pub endpoint: Option<String>,
}

/// A failure talking to AWS, with the context to fix it; [`AwsError::help`] says how.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// `detail` is the SDK's account of every provider it tried: kept for debugging, not shown,
    /// because a multi-line dump of the provider chain does not say what to do.
    #[error("no AWS credentials found (profile `{profile}`)")]
    NoCredentials { profile: String, detail: String },
    #[error("the AWS credentials of profile `{profile}` have expired")]
    Expired { profile: String },
    #[error("AWS rejected the credentials of profile `{profile}` on {operation}: {message}")]
    InvalidCredentials { profile: String, operation: &'static str, message: String },
    #[error("access denied on {operation} in {region}: {message}")]
    AccessDenied { operation: &'static str, region: String, message: String },
    #[error("{operation} in {region} was still throttled after {MAX_ATTEMPTS} attempts: {message}")]
    Throttled { operation: &'static str, region: String, message: String },
    #[error("cannot reach AWS for {operation} in {region}{}: {detail}", endpoint.as_ref().map(|e| format!(" at {e}")).unwrap_or_default())]
    Unreachable { operation: &'static str, region: String, endpoint: Option<String>, detail: String },
    #[error("{operation} failed in {region}: {code}: {message}")]
    Service { operation: &'static str, region: String, code: String, message: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl AwsError {
    /// What to do next, for the CLI's `help:` line.
    pub fn help(&self) -> String {
        match self {
            AwsError::NoCredentials { profile, .. } => format!(
                "configure credentials: pick a profile with AWS_PROFILE=NAME or --profile NAME, create one with `aws configure` (access keys) or `aws configure sso`, or log in with `aws sso login --profile {profile}`"
            ),
            AwsError::Expired { profile } => format!("refresh the session: `aws sso login --profile {profile}` (or renew the temporary credentials you exported), then run the command again"),
            AwsError::InvalidCredentials { profile, .. } => {
                format!("the access key of profile `{profile}` is unknown or mistyped; check `aws sts get-caller-identity --profile {profile}`")
            }
            AwsError::AccessDenied { .. } => {
                "the deploying principal needs the permissions `bedrock-watch deploy-policy` prints; attach them, or use a profile that has them".into()
            }
            AwsError::Throttled { .. } => "the account's API rate limit is exhausted; wait a minute and run the command again (nothing was left half-done by this call)".into(),
            AwsError::Unreachable { region, endpoint: Some(e), .. } => format!("nothing answered at {e} (AWS_ENDPOINT_URL): start the emulator or unset AWS_ENDPOINT_URL; region is {region}"),
            AwsError::Unreachable { region, endpoint: None, .. } => {
                format!("check the network and that `{region}` is a region that exists and is enabled for the account (--region, AWS_REGION or the profile's region)")
            }
            AwsError::Service { .. } => "see the message above; it comes from the AWS API".into(),
            AwsError::Runtime(_) => "the machine is out of resources (threads or file descriptors)".into(),
        }
    }

    /// True when the failure is the service saying a thing does not exist (a stack, a table).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::Service { code, message, .. }
            if code.contains("NotFound") || code == "NoSuchEntity" || code == "NoSuchBucket" || message.contains("does not exist"))
    }
}

pub(crate) fn is_expiry_text(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("expired") || s.contains("token has expired") || s.contains("refresh failed")
}

/// Maps a failure to the error a user can act on. Codes come from the AWS query and JSON
/// protocols' common errors (`ExpiredToken`, `InvalidClientTokenId`, `AccessDenied`, ...).
pub fn classify(ctx: &ErrorContext, facts: &ErrorFacts) -> AwsError {
    let message = facts.message.clone().unwrap_or_else(|| facts.detail.clone());
    let (operation, region, profile) = (ctx.operation, ctx.region.clone(), ctx.profile.clone());
    match facts.kind {
        FailureKind::Service => {
            let code = facts.code.clone().unwrap_or_else(|| "UnknownError".into());
            match code.as_str() {
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => AwsError::Expired { profile },
                "InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch" | "InvalidSignatureException" | "InvalidAccessKeyId" => {
                    AwsError::InvalidCredentials { profile, operation, message }
                }
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" => AwsError::AccessDenied { operation, region, message },
                "Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" | "SlowDown" | "ProvisionedThroughputExceededException" => {
                    AwsError::Throttled { operation, region, message }
                }
                _ => AwsError::Service { operation, region, code, message },
            }
        }
        FailureKind::Dispatch | FailureKind::Construction if facts.detail.to_ascii_lowercase().contains("credential") => {
            if is_expiry_text(&facts.detail) {
                AwsError::Expired { profile }
            } else {
                AwsError::NoCredentials { profile, detail: facts.detail.clone() }
            }
        }
        FailureKind::Dispatch | FailureKind::Timeout => AwsError::Unreachable { operation, region, endpoint: ctx.endpoint.clone(), detail: facts.detail.clone() },
        FailureKind::Construction | FailureKind::Response => {
            AwsError::Service { operation, region, code: "ClientError".into(), message: facts.detail.clone() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(endpoint: Option<&str>) -> ErrorContext {
        ErrorContext { operation: "DescribeStacks", region: "eu-west-1".into(), profile: "dev".into(), endpoint: endpoint.map(str::to_owned) }
    }

    fn service(code: &str, message: &str) -> ErrorFacts {
        ErrorFacts { kind: FailureKind::Service, code: Some(code.into()), message: Some(message.into()), detail: format!("service error: {code}: {message}") }
    }

    #[test]
    fn expired_tokens_name_the_profile_and_the_login_command() {
        let e = classify(&ctx(None), &service("ExpiredToken", "The security token included in the request is expired"));
        assert!(matches!(&e, AwsError::Expired { profile } if profile == "dev"), "{e:?}");
        assert!(e.help().contains("aws sso login --profile dev"), "{}", e.help());
    }

    #[test]
    fn unresolved_credentials_are_a_login_problem_not_a_network_one() {
        let facts = ErrorFacts {
            kind: FailureKind::Dispatch,
            code: None,
            message: None,
            detail: "dispatch failure: other: the credential provider was not enabled: no providers in chain provided credentials".into(),
        };
        let e = classify(&ctx(None), &facts);
        assert!(matches!(e, AwsError::NoCredentials { .. }), "{e:?}");
        assert!(e.to_string().contains("profile `dev`"));
        assert!(!e.to_string().contains('\n') && !e.to_string().contains("providers in chain"), "one line, no SDK dump: {e}");
        for how in ["AWS_PROFILE", "--profile", "aws configure", "aws sso login"] {
            assert!(e.help().contains(how), "{how}: {}", e.help());
        }
    }

    #[test]
    fn sso_refresh_failures_read_as_expired() {
        let facts = ErrorFacts { kind: FailureKind::Construction, code: None, message: None, detail: "failed to load credentials: the SSO session has expired or is invalid".into() };
        assert!(matches!(classify(&ctx(None), &facts), AwsError::Expired { .. }));
    }

    #[test]
    fn access_denied_points_at_the_deploy_policy() {
        let e = classify(&ctx(None), &service("AccessDenied", "User: arn:aws:iam::1:user/x is not authorized to perform: cloudformation:DescribeStacks"));
        assert!(matches!(e, AwsError::AccessDenied { operation: "DescribeStacks", .. }));
        assert!(e.help().contains("deploy-policy"));
    }

    #[test]
    fn throttling_after_retries_says_so() {
        let e = classify(&ctx(None), &service("Throttling", "Rate exceeded"));
        assert!(e.to_string().contains(&format!("after {MAX_ATTEMPTS} attempts")), "{e}");
    }

    #[test]
    fn connection_failures_name_the_endpoint_or_the_region() {
        let facts = ErrorFacts { kind: FailureKind::Dispatch, code: None, message: None, detail: "io error: connection refused".into() };
        let with = classify(&ctx(Some("http://127.0.0.1:5000")), &facts);
        assert!(with.help().contains("http://127.0.0.1:5000"), "{}", with.help());
        let without = classify(&ctx(None), &facts);
        assert!(without.help().contains("`eu-west-1` is a region"), "{}", without.help());
    }

    #[test]
    fn other_service_errors_keep_code_and_message_and_detect_not_found() {
        let e = classify(&ctx(None), &service("ValidationError", "Stack with id x does not exist"));
        assert!(matches!(&e, AwsError::Service { code, .. } if code == "ValidationError"));
        assert!(e.is_not_found());
        assert!(!classify(&ctx(None), &service("ValidationError", "Template format error")).is_not_found());
    }
}
