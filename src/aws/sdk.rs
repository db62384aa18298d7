//! The SDK side: loading the configuration, handing out clients, reading SDK errors.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::error::{classify, is_expiry_text, AwsError, ErrorContext, ErrorFacts, FailureKind, Target, MAX_ATTEMPTS};

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

    /// The same credentials and settings in another region.
    pub fn in_region(&self, region: &str) -> Aws {
        let config = self.config.to_builder().region(Region::new(region.to_owned())).build();
        Aws { config, region: region.to_owned(), ..self.clone() }
    }

    /// The same configuration acting as `role_arn` (STS AssumeRole): how `org audit` reads a
    /// member account. The temporary credentials are used as they are (no refresh): an audit
    /// reads for seconds and the session lasts an hour.
    pub async fn assume(&self, role_arn: &str, session_name: &str) -> Result<Aws, AwsError> {
        use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
        let resp = self.sts().assume_role().role_arn(role_arn).role_session_name(session_name).send().await.map_err(|e| self.error("AssumeRole", e))?;
        let Some(c) = resp.credentials() else {
            return Err(AwsError::NoCredentials { profile: self.profile_label(), detail: format!("AssumeRole {role_arn} returned no credentials") });
        };
        let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "bedrock-watch-assume-role");
        let config = self.config.to_builder().credentials_provider(SharedCredentialsProvider::new(creds)).build();
        Ok(Aws { config, ..self.clone() })
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


/// An [`Aws`] whose every HTTP exchange is answered by the SDK's own replay client: the
/// recorded-response tests drive the real library functions through the real SDK
/// deserializers for the APIs the emulator cannot serve.
#[cfg(test)]
pub(crate) mod replay {
    use aws_config::retry::RetryConfig;
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    use super::Aws;

    /// A recorded answer: HTTP status, content type and the body file under tests/data/recorded/.
    pub(crate) fn event(status: u16, content_type: &str, file: &str) -> ReplayEvent {
        event_with(status, content_type, file, &[])
    }

    /// A recorded answer with response headers (`x-amzn-RequestId`, `x-amzn-ErrorType`,
    /// `smithy-protocol`); the body file may be binary (CBOR).
    pub(crate) fn event_with(status: u16, content_type: &str, file: &str, headers: &[(&str, &str)]) -> ReplayEvent {
        let path = format!("{}/tests/data/recorded/{file}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let request = http::Request::builder().uri("https://replay.invalid/").body(SdkBody::empty()).unwrap();
        let mut response = http::Response::builder().status(status).header("content-type", content_type);
        for (k, v) in headers {
            response = response.header(*k, *v);
        }
        ReplayEvent::new(request, response.body(SdkBody::from(body)).unwrap())
    }

    /// A recorded Smithy RPC v2 CBOR answer (CloudWatch): the binary body file under
    /// tests/data/recorded/, with the protocol header the SDK checks.
    pub(crate) fn event_cbor(status: u16, file: &str) -> ReplayEvent {
        let path = format!("{}/tests/data/recorded/{file}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let request = http::Request::builder().uri("https://replay.invalid/").body(SdkBody::empty()).unwrap();
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "application/cbor")
            .header("smithy-protocol", "rpc-v2-cbor")
            .body(SdkBody::from(body))
            .unwrap();
        ReplayEvent::new(request, response)
    }

    /// The body of the `n`th request sent, bytes that are not UTF-8 (CBOR) replaced: CBOR
    /// keeps map keys and strings as plain text, so a test can look for them.
    pub(crate) fn sent_lossy(client: &StaticReplayClient, n: usize) -> String {
        let r = client.actual_requests().nth(n).unwrap_or_else(|| panic!("no request {n}"));
        String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned()
    }

    /// The connection and its client (to read what was sent).
    pub(crate) fn aws(region: &str, events: Vec<ReplayEvent>) -> (Aws, StaticReplayClient) {
        let client = StaticReplayClient::new(events);
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new("AKIDTEST", "secret", None, None, "recorded")))
            .retry_config(RetryConfig::disabled())
            .http_client(client.clone())
            .build();
        (Aws { config, region: region.to_owned(), profile: None, endpoint: None }, client)
    }

    /// Runs one recorded exchange to completion.
    pub(crate) fn run<F: std::future::Future>(f: F) -> F::Output {
        crate::aws::runtime().unwrap().block_on(f)
    }

    /// The body of the `n`th request sent.
    pub(crate) fn sent(client: &StaticReplayClient, n: usize) -> String {
        let r = client.actual_requests().nth(n).unwrap_or_else(|| panic!("no request {n}"));
        String::from_utf8(r.body().bytes().unwrap_or_default().to_vec()).unwrap()
    }
}
