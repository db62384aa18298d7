//! Reading the CUR 2.0 export files: where they are, the manifest that lists them, and their
//! gzipped CSV. Pure functions over bytes, so the parsing is tested on a committed fixture; the
//! S3 calls are in `fetch`.
//!
//! Layout (AWS Data Exports user guide, "Understanding export delivery"): data under
//! `<prefix>/<export-name>/data/BILLING_PERIOD=YYYY-MM/`, and per billing period a
//! `<prefix>/<export-name>/metadata/BILLING_PERIOD=YYYY-MM/<export-name>-Manifest.json`,
//! delivered only after every data file, whose `dataFiles` lists the data files' full S3 URIs
//! ("Data Exports manifest file reference": read that list to know what to ingest).

use std::io::Read;

use super::billed::CurLine;
use crate::bcm_data_exports::PREFIX;

/// The manifest of one billing period (`YYYY-MM`).
pub fn manifest_key(export_name: &str, billing_period: &str) -> String {
    format!("{PREFIX}/{export_name}/metadata/BILLING_PERIOD={billing_period}/{export_name}-Manifest.json")
}

#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(rename = "dataFiles")]
    data_files: Vec<String>,
}

/// The object keys of the manifest's data files, which must be in `bucket` under the export's
/// folder (anything else is not this export's delivery and is refused).
pub fn data_files(manifest: &[u8], bucket: &str, export_name: &str) -> Result<Vec<String>, String> {
    let m: Manifest = serde_json::from_slice(manifest).map_err(|e| format!("not a Data Exports manifest (no `dataFiles` list): {e}"))?;
    let folder = format!("{PREFIX}/{export_name}/");
    m.data_files
        .iter()
        .map(|uri| {
            let rest = uri.strip_prefix("s3://").ok_or_else(|| format!("data file `{uri}` is not an s3:// URI"))?;
            let (b, key) = rest.split_once('/').ok_or_else(|| format!("data file `{uri}` names no object"))?;
            if b != bucket || !key.starts_with(&folder) {
                return Err(format!("data file `{uri}` is outside s3://{bucket}/{folder}"));
            }
            Ok(key.to_owned())
        })
        .collect()
}

/// Columns without which nothing can be compared.
pub const REQUIRED: &[&str] = &["line_item_iam_principal", "line_item_usage_type", "line_item_unblended_cost"];

/// `line_item_usage_start_date`: RFC 3339 (`2026-11-01T00:00:00Z`, `...00.000Z`) or
/// `2026-11-01 00:00:00[.000]` taken as UTC.
pub fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let dt = t.replace(' ', "T").trim_end_matches(" UTC").parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(dt).ok().map(|t| t.as_second())
}

/// Reads one gzipped CSV data file, calling `each` per line; returns the number of lines.
pub fn read_csv_gz(bytes: &[u8], each: impl FnMut(CurLine)) -> Result<usize, String> {
    read_csv(flate2::read::MultiGzDecoder::new(bytes), each)
}

/// Reads CSV with a header row (RFC 4180 quoting), by column name.
pub fn read_csv<R: Read>(reader: R, mut each: impl FnMut(CurLine)) -> Result<usize, String> {
    let mut r = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
    let headers = r.headers().map_err(|e| format!("cannot read the CSV header: {e}"))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(format!("the CSV has no {} column (has: {})", missing.join(", "), headers.iter().collect::<Vec<_>>().join(", ")));
    }
    let [principal, usage_type, cost] = [REQUIRED[0], REQUIRED[1], REQUIRED[2]].map(|c| col(c).unwrap_or_default());
    let (line_type, start, account, product, family, resource, currency, region) = (
        col("line_item_line_item_type"),
        col("line_item_usage_start_date"),
        col("line_item_usage_account_id"),
        col("line_item_product_code"),
        col("product_product_family"),
        col("line_item_resource_id"),
        col("line_item_currency_code"),
        col("product_region_code"),
    );
    let mut n = 0;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("line {}: {e}", i + 2))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim().to_owned();
        let cost_text = get(Some(cost));
        let unblended_cost = if cost_text.is_empty() { 0.0 } else { cost_text.parse::<f64>().map_err(|_| format!("line {}: line_item_unblended_cost `{cost_text}` is not a number", i + 2))? };
        each(CurLine {
            line_item_type: get(line_type),
            usage_start: parse_time(&get(start)),
            usage_account_id: get(account),
            iam_principal: get(Some(principal)),
            product_code: get(product),
            product_family: get(family),
            usage_type: get(Some(usage_type)),
            resource_id: get(resource),
            unblended_cost,
            currency: get(currency),
            region: get(region),
        });
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::Write;

    /// The committed fixture: a small CUR 2.0 export of November 2026 (tests/data/cur/README.md).
    pub fn fixture_csv() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cur/bedrock-watch-cur2-00001.csv")).unwrap()
    }

    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn the_manifest_key_follows_the_documented_layout() {
        assert_eq!(manifest_key("genai-cur2", "2026-11"), "cur2/genai-cur2/metadata/BILLING_PERIOD=2026-11/genai-cur2-Manifest.json");
    }

    #[test]
    fn manifest_data_files_must_be_this_exports() {
        let m = br#"{"executionId":"x","dataFiles":["s3://b/cur2/e/data/BILLING_PERIOD=2026-11/e-00001.csv.gz","s3://b/cur2/e/data/BILLING_PERIOD=2026-11/e-00002.csv.gz"],"columns":[]}"#;
        assert_eq!(data_files(m, "b", "e").unwrap(), vec!["cur2/e/data/BILLING_PERIOD=2026-11/e-00001.csv.gz", "cur2/e/data/BILLING_PERIOD=2026-11/e-00002.csv.gz"]);
        assert!(data_files(br#"{"dataFiles":["s3://other/cur2/e/x.csv.gz"]}"#, "b", "e").unwrap_err().contains("outside s3://b/cur2/e/"));
        assert!(data_files(br#"{"dataFiles":["https://b/cur2/e/x"]}"#, "b", "e").unwrap_err().contains("not an s3:// URI"));
        assert!(data_files(b"[]", "b", "e").unwrap_err().contains("dataFiles"));
    }

    /// 2026-11-01T00:00:00Z.
    const NOV_1: i64 = 1_793_491_200;

    #[test]
    fn times_in_either_form() {
        assert_eq!(parse_time("2026-11-01T00:00:00Z"), Some(NOV_1));
        assert_eq!(parse_time("2026-11-01T01:00:00.000Z"), parse_time("2026-11-01 01:00:00.000"));
        assert_eq!(parse_time("2026-11-01 01:00:00"), Some(NOV_1 + 3600));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("soon"), None);
    }

    #[test]
    fn the_fixture_parses_with_quoting_and_every_column() {
        let mut lines = Vec::new();
        let n = read_csv_gz(&gzip(&fixture_csv()), |l| lines.push(l)).unwrap();
        assert_eq!(n, lines.len());
        assert_eq!(n, 16);
        // A quoted field with a comma in it (a session name) stays one field.
        let quoted = lines.iter().find(|l| l.iam_principal.contains("build,nightly")).expect("quoted principal");
        assert_eq!(quoted.iam_principal, "arn:aws:sts::123456789012:assumed-role/ci-runner/build,nightly");
        assert_eq!(quoted.usage_type, "USE1-NovaMicro-input-tokens");
        let first = &lines[0];
        assert_eq!(first.line_item_type, "Usage");
        assert_eq!(first.usage_start, parse_time("2026-11-03T10:00:00Z"));
        assert_eq!((first.product_family.as_str(), first.region.as_str(), first.currency.as_str()), ("Amazon Bedrock", "us-east-1", "USD"));
    }

    #[test]
    fn a_csv_without_the_principal_column_is_refused_naming_it() {
        let e = read_csv(&b"line_item_usage_type,line_item_unblended_cost\nUSE1-x-input-tokens,1\n"[..], |_| {}).unwrap_err();
        assert!(e.contains("no line_item_iam_principal column"), "{e}");
        let e = read_csv(&b"line_item_iam_principal,line_item_usage_type,line_item_unblended_cost\na,b,lots\n"[..], |_| {}).unwrap_err();
        assert!(e.contains("line 2") && e.contains("`lots` is not a number"), "{e}");
        let e = read_csv_gz(b"not gzip", |_| {}).unwrap_err();
        assert!(e.contains("CSV header"), "{e}");
    }
}
