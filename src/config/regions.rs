//! The regions that exist, so that a typo such as `us-east-3` or `eu-centrl-1` fails at `synth`
//! instead of at deploy time, with the nearest real name suggested.
//!
//! Source: the partitions table the AWS SDK for Rust resolves endpoints with
//! (`partitions.json`, embedded in `aws-sdk-sts` 1.124.0 `src/endpoint_lib.rs`, version 1.1),
//! without its `*-global` pseudo-regions. A region AWS opens later needs a line here.

/// Partition → its regions.
pub const PARTITIONS: &[(&str, &[&str])] = &[
    (
        "aws",
        &[
            "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
            "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
            "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2",
            "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
            "us-west-2",
        ],
    ),
    ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
    ("aws-eusc", &["eusc-de-east-1"]),
    ("aws-iso", &["us-iso-east-1", "us-iso-west-1"]),
    ("aws-iso-b", &["us-isob-east-1", "us-isob-west-1"]),
    ("aws-iso-e", &["eu-isoe-west-1"]),
    ("aws-iso-f", &["us-isof-east-1", "us-isof-south-1"]),
    ("aws-us-gov", &["us-gov-east-1", "us-gov-west-1"]),
];

/// Every known region, partition by partition.
pub fn all() -> impl Iterator<Item = &'static str> {
    PARTITIONS.iter().flat_map(|(_, regions)| regions.iter().copied())
}

/// Whether `r` is a region of a known partition.
pub fn is_known(r: &str) -> bool {
    all().any(|known| known == r)
}

/// The partition (`aws`, `aws-cn`, ...) holding `r`.
pub fn partition_of(r: &str) -> Option<&'static str> {
    PARTITIONS.iter().find(|(_, regions)| regions.contains(&r)).map(|(p, _)| *p)
}

/// Whether `p` names a known partition (as in `arn:<partition>:...`).
pub fn is_partition(p: &str) -> bool {
    PARTITIONS.iter().any(|(known, _)| *known == p)
}

/// The known region nearest to `r` by edit distance, when it is close enough to be a typo
/// (at most a third of the name differs).
pub fn nearest(r: &str) -> Option<&'static str> {
    // Long inputs are not typos of a 9-15 character name; this also bounds the work.
    if r.len() > 40 {
        return None;
    }
    let lower = r.to_ascii_lowercase();
    all().map(|known| (edit_distance(&lower, known), known)).filter(|(d, known)| *d <= known.len() / 3).min_by_key(|(d, _)| *d).map(|(_, k)| k)
}

/// Levenshtein distance over bytes (region names are ASCII).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// What the error says is allowed for a region key: the nearest name when there is one.
pub fn allowed(r: &str) -> String {
    match nearest(r) {
        Some(n) => format!("did you mean {n}? allowed: a region of a known partition (aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc), e.g. us-east-1"),
        None => "allowed: a region of a known partition (aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc), e.g. us-east-1 or eu-central-1".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_and_partitions() {
        for r in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-northwest-1", "us-isob-east-1", "eusc-de-east-1", "mx-central-1"] {
            assert!(is_known(r), "{r}");
        }
        for r in ["us-east-3", "eu-central-9", "us-gov-west-2", "aws-global", "US-EAST-1", ""] {
            assert!(!is_known(r), "{r}");
        }
        assert_eq!(partition_of("cn-north-1"), Some("aws-cn"));
        assert_eq!(partition_of("us-gov-east-1"), Some("aws-us-gov"));
        let all: Vec<_> = all().collect();
        let mut dedup = all.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(all.len(), dedup.len(), "a region is listed twice");
    }

    #[test]
    fn typos_get_the_nearest_region() {
        assert_eq!(nearest("eu-centrl-1"), Some("eu-central-1"));
        assert_eq!(nearest("US-EAST-1"), Some("us-east-1"));
        assert_eq!(nearest("us-wset-2"), Some("us-west-2"));
        assert_eq!(nearest("mars-1"), None);
        assert_eq!(nearest(&"x".repeat(10_000)), None);
        assert!(allowed("eu-centrl-1").starts_with("did you mean eu-central-1?"));
    }
}
