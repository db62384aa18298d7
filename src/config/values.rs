//! Checks of single values shared by every config section: e-mail addresses, ARNs, tag text,
//! and how a value or a user-chosen key is shown in a message.

/// Longest value a message shows in full; longer ones are cut (a pasted multi-megabyte value
/// must not become a multi-megabyte error).
pub const SHOWN_CHARS: usize = 60;

/// `s`, or its first [`SHOWN_CHARS`] characters and its length.
pub fn shorten(s: &str) -> String {
    let count = s.chars().count();
    if count <= SHOWN_CHARS {
        return s.to_owned();
    }
    let head: String = s.chars().take(SHOWN_CHARS).collect();
    format!("{head}... ({count} characters)")
}

/// A value in quotes, escaped (control characters visible) and shortened.
pub fn quoted(s: &str) -> String {
    let count = s.chars().count();
    if count <= SHOWN_CHARS {
        return format!("{s:?}");
    }
    let head: String = s.chars().take(SHOWN_CHARS).collect();
    format!("{head:?}... ({count} characters)")
}

/// A user-chosen map key as one segment of a key path: quoted when it holds anything but
/// letters, digits, `_` and `-` (model ids hold dots and colons), shortened when long.
pub fn key_segment(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        shorten(k)
    } else {
        quoted(k)
    }
}

/// Whether `s` holds a control character (a line break in a tag value, a NUL in an address).
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// An address SNS and AWS Budgets accept: `local@domain.tld`, printable ASCII, a local part of
/// 1-64 characters without spaces or specials, a domain of dot-separated labels (letters, digits,
/// inner hyphens) ending in an alphabetic top-level domain; at most 254 characters.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    let local_ok = (1..=64).contains(&local.len())
        && local.chars().all(|c| c.is_ascii_graphic() && !"\"(),:;<>@[\\]".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| (1..=63).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !l.starts_with('-') && !l.ends_with('-'))
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    s.len() <= 254 && local_ok && domain_ok
}

/// The parts of an ARN, `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Splits an ARN of a known partition; region and account are empty or well-formed (a known
/// region, 12 digits). `None` when it is not one.
pub fn parse_arn(s: &str) -> Option<Arn<'_>> {
    if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\') {
        return None;
    }
    let mut parts = s.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let ok = arn == "arn"
        && super::regions::is_partition(partition)
        && !service.is_empty()
        && service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && (region.is_empty() || super::regions::is_known(region))
        && (account.is_empty() || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
        && !resource.is_empty();
    ok.then_some(Arn { partition, service, region, account, resource })
}

/// Text AWS accepts in tag keys and values: Unicode letters, digits, spaces and `_ . : / = + - @`.
pub fn is_tag_text(s: &str) -> bool {
    s.chars().all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shortened() {
        assert_eq!(shorten("short"), "short");
        let long = "x".repeat(3_000_000);
        let s = quoted(&long);
        assert!(s.len() < 100 && s.ends_with("... (3000000 characters)"), "{s}");
        assert_eq!(key_segment("Team"), "Team");
        assert_eq!(key_segment("amazon.nova-pro-v1:0"), "\"amazon.nova-pro-v1:0\"");
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn emails() {
        for ok in ["ops@example.com", "first.last+tag@sub.example.co.uk", "a@b.io"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["ops@example", "ops@@example.com", "ops@example.com\n", "o ps@example.com", "@example.com", "ops@-example.com", "ops@example.c0m", "ops@exa_mple.com", "ops\u{0}@example.com", "a..b@example.com", "ops@example..com"] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn arns() {
        let a = parse_arn("arn:aws:sts::111122223333:assumed-role/Dev/jane@example.com").unwrap();
        assert_eq!((a.service, a.account, a.resource), ("sts", "111122223333", "assumed-role/Dev/jane@example.com"));
        assert!(parse_arn("arn:aws-cn:iam::111122223333:user/x").is_some());
        assert!(parse_arn("arn:aws:sso:::instance/ssoins-1234567890abcdef").is_some());
        for bad in ["arn:aws:sts::1111:assumed-role/x", "arn:awz:sts::111122223333:x", "arn:aws:sts::111122223333:", "arn:aws:sts:us-east-9:111122223333:x", "arn:aws:sts::111122223333", "aws:sts::111122223333:x", "arn:aws:sts::111122223333:a b"] {
            assert!(parse_arn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn tag_text() {
        assert!(is_tag_text("Team Platform/EU: a+b=c@d_e.f-g"));
        assert!(is_tag_text("Kostenstelle Köln"));
        assert!(!is_tag_text("a\tb") && !is_tag_text("line\nbreak") && !is_tag_text("50%") && !is_tag_text("<b>"));
    }
}
