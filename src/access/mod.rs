//! Bedrock API keys for the tools of `access.tools` (seed 002's `user create-key <user> <tool>`):
//! IAM service-specific credentials for `bedrock.amazonaws.com` on the tool's own IAM user, so
//! each key is attributed to its tool. Keys always expire (`CredentialAgeDays`, at most
//! `access.key_max_age_days`). The secret is returned once to the caller and never logged.

use crate::aws::{Aws, AwsError};
use crate::config::access::Access;
use crate::config::Config;
use crate::verify::facts::ApiKey;
use crate::verify::gather::rfc3339;

/// The service name IAM issues Bedrock API keys for.
pub const BEDROCK_SERVICE: &str = "bedrock.amazonaws.com";

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("access is not enabled in the configuration (access.enabled is false)")]
    Disabled,
    #[error("unknown tool `{tool}`: not under access.tools (configured: {known})")]
    UnknownTool { tool: String, known: String },
    #[error("--expires-in {days} is out of range: allowed 1 to {max} days (access.key_max_age_days)")]
    Expiry { days: u32, max: u32 },
    #[error("the tool's user `{user}` does not exist")]
    UserMissing { user: String },
    #[error("key `{id}` does not belong to tool `{tool}`")]
    UnknownKey { tool: String, id: String },
    #[error("{0}")]
    Aws(#[from] AwsError),
}

impl AccessError {
    pub fn help(&self) -> String {
        match self {
            AccessError::Disabled => "set `access.enabled: true` and list the tool under access.tools, deploy, then run the command with that --config".into(),
            AccessError::UnknownTool { .. } => "add the tool under access.tools in the config and deploy (each tool gets its own IAM user)".into(),
            AccessError::Expiry { .. } => "pass a smaller --expires-in, or raise access.key_max_age_days".into(),
            AccessError::UserMissing { .. } => "deploy the stack with this tool under access.tools first (`bedrock-watch deploy --config FILE`)".into(),
            AccessError::UnknownKey { .. } => "list the tool's keys with `bedrock-watch access key list TOOL`".into(),
            AccessError::Aws(e) => e.help(),
        }
    }
}

/// A newly issued key: the secret exists only in this value.
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: String,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey").field("key", &self.key).field("secret", &"<redacted>").finish()
    }
}

/// The tool's IAM user name after checking the tool is configured.
pub fn tool_user(config: &Config, tool: &str) -> Result<String, AccessError> {
    if !config.access.enabled {
        return Err(AccessError::Disabled);
    }
    if !config.access.tools.contains_key(tool) {
        let known = config.access.tools.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(AccessError::UnknownTool { tool: tool.to_owned(), known: if known.is_empty() { "none".into() } else { known } });
    }
    Ok(Access::tool_user_name(tool))
}

/// Days a new key lives: `--expires-in`, else the limit; never more than the limit.
pub fn expiry_days(config: &Config, requested: Option<u32>) -> Result<u32, AccessError> {
    let max = config.access.key_max_age_days;
    match requested {
        None => Ok(max),
        Some(d) if (1..=max).contains(&d) => Ok(d),
        Some(days) => Err(AccessError::Expiry { days, max }),
    }
}

fn user_error(user: &str, e: AwsError) -> AccessError {
    if e.is_not_found() {
        AccessError::UserMissing { user: user.to_owned() }
    } else {
        AccessError::Aws(e)
    }
}

/// Issues a Bedrock API key for `tool` that expires after `days`.
pub async fn create_key(aws: &Aws, config: &Config, tool: &str, days: Option<u32>) -> Result<IssuedKey, AccessError> {
    let user = tool_user(config, tool)?;
    let days = expiry_days(config, days)?;
    let resp = aws
        .iam()
        .create_service_specific_credential()
        .user_name(&user)
        .service_name(BEDROCK_SERVICE)
        .credential_age_days(days as i32)
        .send()
        .await
        .map_err(|e| user_error(&user, aws.error("CreateServiceSpecificCredential", e)))?;
    let c = resp.service_specific_credential().ok_or_else(|| {
        AccessError::Aws(AwsError::Service { operation: "CreateServiceSpecificCredential", region: aws.region.clone(), code: "EmptyResponse".into(), message: "no credential in the answer".into() })
    })?;
    let secret = c.service_credential_secret().unwrap_or(c.service_password()).to_owned();
    Ok(IssuedKey {
        key: ApiKey {
            user: user.clone(),
            id: c.service_specific_credential_id().to_owned(),
            status: c.status().as_str().to_owned(),
            created: rfc3339(c.create_date()),
            expires: c.expiration_date().map(rfc3339),
        },
        secret,
    })
}

/// The Bedrock API keys of one IAM user (no secrets: IAM never returns them again).
pub async fn list_keys(aws: &Aws, user: &str) -> Result<Vec<ApiKey>, AwsError> {
    let resp = aws.iam().list_service_specific_credentials().user_name(user).service_name(BEDROCK_SERVICE).send().await.map_err(|e| aws.error("ListServiceSpecificCredentials", e))?;
    Ok(resp
        .service_specific_credentials()
        .iter()
        .map(|c| ApiKey {
            user: c.user_name().to_owned(),
            id: c.service_specific_credential_id().to_owned(),
            status: c.status().as_str().to_owned(),
            created: rfc3339(c.create_date()),
            expires: c.expiration_date().map(rfc3339),
        })
        .collect())
}

/// The tool's keys, after checking the tool is configured.
pub async fn list_tool_keys(aws: &Aws, config: &Config, tool: &str) -> Result<Vec<ApiKey>, AccessError> {
    let user = tool_user(config, tool)?;
    list_keys(aws, &user).await.map_err(|e| user_error(&user, e))
}

/// Deletes key `id` of `tool` (a revoked key cannot be brought back).
pub async fn revoke_key(aws: &Aws, config: &Config, tool: &str, id: &str) -> Result<(), AccessError> {
    let user = tool_user(config, tool)?;
    let keys = list_keys(aws, &user).await.map_err(|e| user_error(&user, e))?;
    if !keys.iter().any(|k| k.id == id) {
        return Err(AccessError::UnknownKey { tool: tool.to_owned(), id: id.to_owned() });
    }
    aws.iam()
        .delete_service_specific_credential()
        .user_name(&user)
        .service_specific_credential_id(id)
        .send()
        .await
        .map_err(|e| AccessError::Aws(aws.error("DeleteServiceSpecificCredential", e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut c = Config::default();
        c.access.enabled = true;
        c.access.key_max_age_days = 30;
        c.access.tools.insert("support-bot".into(), Default::default());
        c
    }

    #[test]
    fn unknown_tools_and_expiry_limits_are_errors() {
        let c = config();
        assert_eq!(tool_user(&c, "support-bot").unwrap(), "bedrock-tool-support-bot");
        let e = tool_user(&c, "other").unwrap_err();
        assert!(e.to_string().contains("configured: support-bot"), "{e}");
        assert_eq!(expiry_days(&c, None).unwrap(), 30);
        assert_eq!(expiry_days(&c, Some(7)).unwrap(), 7);
        assert!(matches!(expiry_days(&c, Some(31)), Err(AccessError::Expiry { days: 31, max: 30 })));
        assert!(matches!(expiry_days(&c, Some(0)), Err(AccessError::Expiry { .. })));
        assert!(matches!(tool_user(&Config::default(), "x"), Err(AccessError::Disabled)));
    }

    #[test]
    fn issued_keys_never_print_their_secret() {
        let k = IssuedKey { key: ApiKey { user: "u".into(), id: "i".into(), status: "Active".into(), created: "c".into(), expires: None }, secret: "ABSKsecret".into() };
        assert!(!format!("{k:?}").contains("ABSKsecret"));
    }

    /// Recorded IAM answers (moto returns HTTP 500 for service-specific credentials): the
    /// create/list/revoke paths through the real SDK deserializers.
    #[cfg(feature = "aws")]
    mod recorded {
        use super::*;
        use crate::aws::sdk_replay::{aws as replay, event, run, sent};

        const XML: &str = "text/xml";


        #[test]
        fn create_returns_the_secret_once_with_its_expiry() {
            let (aws, client) = replay("us-east-1", vec![event(200, XML, "iam-create-service-specific-credential.xml")]);
            let issued = run(create_key(&aws, &config(), "support-bot", Some(7))).unwrap();
            assert_eq!(issued.secret, "ABSKrecordedSecretValue0000000000");
            assert_eq!(issued.key.id, "ACCAQEXAMPLE0000000001");
            assert_eq!(issued.key.user, "bedrock-tool-support-bot");
            assert_eq!(issued.key.status, "Active");
            assert_eq!(issued.key.created, "2026-12-01T10:00:00Z");
            assert_eq!(issued.key.expires.as_deref(), Some("2026-12-08T10:00:00Z"));
            let body = sent(&client, 0);
            for part in ["Action=CreateServiceSpecificCredential", "UserName=bedrock-tool-support-bot", "ServiceName=bedrock.amazonaws.com", "CredentialAgeDays=7"] {
                assert!(body.contains(part), "{part} missing in {body}");
            }
        }

        #[test]
        fn list_reads_every_key_of_the_tool() {
            let (aws, _) = replay("us-east-1", vec![event(200, XML, "iam-list-service-specific-credentials.xml")]);
            let keys = run(list_tool_keys(&aws, &config(), "support-bot")).unwrap();
            let got: Vec<(&str, &str, Option<&str>)> = keys.iter().map(|k| (k.id.as_str(), k.status.as_str(), k.expires.as_deref())).collect();
            assert_eq!(got, vec![("ACCAQEXAMPLE0000000001", "Active", Some("2026-12-08T10:00:00Z")), ("ACCAQEXAMPLE0000000002", "Inactive", None)]);
        }

        #[test]
        fn revoke_deletes_a_listed_key_and_refuses_an_unknown_one() {
            let (aws, client) = replay(
                "us-east-1",
                vec![event(200, XML, "iam-list-service-specific-credentials.xml"), event(200, XML, "iam-delete-service-specific-credential.xml")],
            );
            run(revoke_key(&aws, &config(), "support-bot", "ACCAQEXAMPLE0000000002")).unwrap();
            let body = sent(&client, 1);
            assert!(body.contains("Action=DeleteServiceSpecificCredential") && body.contains("ServiceSpecificCredentialId=ACCAQEXAMPLE0000000002"), "{body}");

            let (aws, client) = replay("us-east-1", vec![event(200, XML, "iam-list-service-specific-credentials.xml")]);
            let err = run(revoke_key(&aws, &config(), "support-bot", "ACCAOTHER")).unwrap_err();
            assert!(matches!(err, AccessError::UnknownKey { ref id, .. } if id == "ACCAOTHER"), "{err:?}");
            assert_eq!(client.actual_requests().count(), 1, "nothing deleted");
        }

        #[test]
        fn a_missing_tool_user_says_deploy_first() {
            let (aws, _) = replay("us-east-1", vec![event(404, XML, "iam-error-no-such-entity.xml")]);
            let err = run(create_key(&aws, &config(), "support-bot", None)).unwrap_err();
            assert!(matches!(err, AccessError::UserMissing { ref user } if user == "bedrock-tool-support-bot"), "{err:?}");
            assert!(err.help().contains("deploy"));
        }
    }
}
