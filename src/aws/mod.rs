//! The one place bedrock-watch meets AWS: loading the SDK configuration exactly as the AWS CLI
//! resolves it (profiles, SSO, credential processes, `AWS_REGION`, `AWS_ENDPOINT_URL`), handing
//! out service clients, and turning SDK failures into errors that say what to do.
//!
//! `deploy`, `diff`, `destroy`, `report` and `quota` all start here, so a missing credential or
//! a wrong region reads the same in every command. Retries (throttling, 5xx, dropped
//! connections) are the SDK's standard retry strategy configured once in [`Aws::connect`], never
//! hand-made loops.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

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

/// A loaded SDK configuration for one region, with what error messages need to name.
#[derive(Debug, Clone)]
pub struct Aws {
    pub config: SdkConfig,
    pub region: String,
    /// The profile in use, as named by `--profile` or `AWS_PROFILE` (None: the default chain).
    pub profile: Option<String>,
    /// `AWS_ENDPOINT_URL` (or the profile's `endpoint_url`) when set: an emulator in tests.
    pub endpoint: Option<String>,
}

impl Aws {
    /// Loads the configuration for `target`, in `region` unless `target.region` overrides it.
    /// Credentials are resolved lazily by the SDK; call [`Aws::check_credentials`] to fail
    /// early with a clear message.
    pub async fn connect(target: &Target, region: &str) -> Aws {
        let region = target.region.clone().unwrap_or_else(|| region.to_owned());
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS).with_initial_backoff(Duration::from_millis(200)));
        if let Some(p) = &target.profile {
            loader = loader.profile_name(p);
        }
        let config = loader.load().await;
        let endpoint = config.endpoint_url().map(str::to_owned);
        let profile = target.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
        Aws { config, region, profile, endpoint }
    }

    /// Resolves credentials now, so that a missing or expired login is reported before any
    /// work starts, naming the profile and how to log in.
    pub async fn check_credentials(&self) -> Result<(), AwsError> {
        use aws_sdk_cloudformation::config::ProvideCredentials;
        let Some(provider) = self.config.credentials_provider() else {
            return Err(AwsError::NoCredentials { profile: self.profile_label(), detail: "no credential provider is configured".into() });
        };
        match provider.provide_credentials().await {
            Ok(creds) => match creds.expiry() {
                Some(expiry) if expiry <= std::time::SystemTime::now() => Err(AwsError::Expired { profile: self.profile_label() }),
                _ => Ok(()),
            },
            Err(e) => {
                let detail = DisplayErrorContext(&e).to_string();
                if is_expiry_text(&detail) {
                    Err(AwsError::Expired { profile: self.profile_label() })
                } else {
                    Err(AwsError::NoCredentials { profile: self.profile_label(), detail })
                }
            }
        }
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config)
    }

    /// S3 uses path-style addressing when an endpoint is configured: an emulator on
    /// 127.0.0.1 has no per-bucket host names.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config).force_path_style(self.endpoint.is_some()).build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.config)
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.config)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.config)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.config)
    }

    pub fn sso_admin(&self) -> aws_sdk_ssoadmin::Client {
        aws_sdk_ssoadmin::Client::new(&self.config)
    }

    fn profile_label(&self) -> String {
        self.profile.clone().unwrap_or_else(|| "default".into())
    }

    /// Turns an SDK failure of `operation` into an [`AwsError`] that names what to do.
    pub fn error<E, R>(&self, operation: &'static str, err: SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        classify(&self.context(operation), &ErrorFacts::from_sdk(&err))
    }

    /// What [`classify`] needs to know about this connection.
    pub fn context(&self, operation: &'static str) -> ErrorContext {
        ErrorContext { operation, region: self.region.clone(), profile: self.profile_label(), endpoint: self.endpoint.clone() }
    }
}

/// A single-threaded runtime for the CLI: every command is a short sequence of API calls, and
/// polling is I/O-bound, so one thread is enough and starts fastest.
pub fn runtime() -> Result<tokio::runtime::Runtime, AwsError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(AwsError::Runtime)
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

impl ErrorFacts {
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> ErrorFacts
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let kind = match err {
            SdkError::ServiceError(_) => FailureKind::Service,
            SdkError::DispatchFailure(_) => FailureKind::Dispatch,
            SdkError::TimeoutError(_) => FailureKind::Timeout,
            SdkError::ConstructionFailure(_) => FailureKind::Construction,
            _ => FailureKind::Response,
        };
        ErrorFacts { kind, code: err.code().map(str::to_owned), message: err.message().map(str::to_owned), detail: DisplayErrorContext(err).to_string() }
    }
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

fn is_expiry_text(s: &str) -> bool {
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
