//! The `aws` model: service, operation, the IAM-style actions they perform, and the global
//! options (`--profile`, `--region`, `--endpoint-url`, ...) wherever they stand.
//!
//! The service and the operation are the first two words that are neither options nor the
//! values of global options. The actions of the high-level `s3` commands follow from what
//! they do (see [`s3_actions`]); any other operation maps to `PREFIX:PascalCase`, where
//! `PREFIX` is the service name or, for the services whose IAM prefix differs, the one in
//! [`PREFIXES`]. IAM matches action names case-insensitively, and so do policy conditions,
//! so `rds describe-db-instances` giving `rds:DescribeDbInstances` still matches
//! `rds:DescribeDBInstances`.

use super::{AwsModel, mark};
use crate::command::analyze::Arg;

/// Global options that take a value.
const GLOBAL_VALUE: &[&str] = &[
    "profile",
    "region",
    "endpoint-url",
    "output",
    "query",
    "ca-bundle",
    "cli-read-timeout",
    "cli-connect-timeout",
    "color",
    "cli-binary-format",
];

/// Options of the high-level `s3` commands that take a value.
const S3_VALUE: &[&str] = &[
    "acl",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-type",
    "exclude",
    "include",
    "expires",
    "expires-in",
    "grants",
    "metadata",
    "metadata-directive",
    "page-size",
    "sse",
    "sse-c",
    "sse-c-key",
    "sse-kms-key-id",
    "sse-c-copy-source",
    "sse-c-copy-source-key",
    "storage-class",
    "website-redirect",
    "expected-size",
    "source-region",
    "request-payer",
    "checksum-algorithm",
    "copy-props",
    "index-document",
    "error-document",
];

/// CLI service names whose IAM action prefix differs.
const PREFIXES: &[(&str, &str)] = &[
    ("s3api", "s3"),
    ("s3control", "s3"),
    ("configservice", "config"),
    ("elbv2", "elasticloadbalancing"),
    ("elb", "elasticloadbalancing"),
    ("opensearch", "es"),
    ("stepfunctions", "states"),
    ("emr", "elasticmapreduce"),
    ("sesv2", "ses"),
    ("dynamodbstreams", "dynamodb"),
    ("apigatewayv2", "apigateway"),
    ("efs", "elasticfilesystem"),
    ("deploy", "codedeploy"),
    ("lex-models", "lex"),
    ("lexv2-models", "lex"),
    ("iot-data", "iot"),
    ("sso-admin", "sso"),
    ("resourcegroupstaggingapi", "tag"),
    ("cloudsearchdomain", "cloudsearch"),
    ("sagemaker-runtime", "sagemaker"),
    ("timestream-query", "timestream"),
    ("timestream-write", "timestream"),
    ("logs", "logs"),
    ("ecr-public", "ecr-public"),
    ("secretsmanager", "secretsmanager"),
];

/// `terminate-instances` → `TerminateInstances`.
fn pascal(operation: &str) -> String {
    operation
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The IAM prefix of a CLI service name.
fn prefix(service: &str) -> &str {
    PREFIXES.iter().find(|(cli, _)| *cli == service).map_or(service, |(_, iam)| iam)
}

fn is_s3(path: Option<&String>) -> bool {
    // A missing path is read as an S3 path: more actions, never fewer.
    path.is_none_or(|p| p.to_ascii_lowercase().starts_with("s3://"))
}

/// The actions of a high-level `aws s3` command, from the direction of the transfer.
/// `paths` are its positional arguments, `switches` its options without values.
fn s3_actions(operation: &str, paths: &[String], switches: &[String]) -> Vec<String> {
    let has = |s: &str| switches.iter().any(|w| w == s);
    let recursive = has("recursive");
    let (source, target) = (is_s3(paths.first()), is_s3(paths.get(1)));
    let mut actions: Vec<&str> = Vec::new();
    match operation {
        "ls" => actions.push(if paths.is_empty() { "ListAllMyBuckets" } else { "ListBucket" }),
        "cp" | "mv" => {
            if source {
                actions.push("GetObject");
                if operation == "mv" {
                    actions.push("DeleteObject");
                }
                if recursive {
                    actions.push("ListBucket");
                }
            }
            if target {
                actions.push("PutObject");
            }
        }
        "rm" => {
            actions.push("DeleteObject");
            if recursive {
                actions.push("ListBucket");
            }
        }
        "sync" => {
            if source {
                actions.extend(["GetObject", "ListBucket"]);
            }
            if target {
                actions.extend(["PutObject", "ListBucket"]);
                if has("delete") {
                    actions.push("DeleteObject");
                }
            }
        }
        "mb" => actions.push("CreateBucket"),
        "rb" => {
            actions.push("DeleteBucket");
            if has("force") {
                actions.extend(["DeleteObject", "ListBucket"]);
            }
        }
        "presign" => actions.push("GetObject"),
        "website" => actions.push("PutBucketWebsite"),
        _ => return vec![format!("s3:{}", pascal(operation))],
    }
    let mut out: Vec<String> = Vec::new();
    for a in actions {
        let action = format!("s3:{a}");
        if !out.contains(&action) {
            out.push(action);
        }
    }
    out
}

pub(crate) fn model(args: &[Arg]) -> AwsModel {
    let mut model = AwsModel::default();
    let mut positionals: Vec<String> = Vec::new();
    let mut switches: Vec<String> = Vec::new();
    let mut i = 1usize;
    while let Some(a) = args.get(i) {
        i += 1;
        let has_operation = positionals.len() >= 2;
        if a.dynamic {
            if !has_operation {
                mark(&mut model.unresolved, "service");
            }
            let s3 = positionals.first().is_some_and(|s| s == "s3");
            if !has_operation || s3 {
                mark(&mut model.unresolved, "actions");
            }
            mark(&mut model.unresolved, "profile");
            mark(&mut model.unresolved, "region");
            positionals.push(a.text.clone());
            continue;
        }
        let t = a.text.as_str();
        if let Some((name, value)) = super::long_option(t) {
            let takes_value = GLOBAL_VALUE.contains(&name)
                || (positionals.first().is_some_and(|s| s == "s3") && S3_VALUE.contains(&name));
            let value = match value {
                Some(v) => Some(Arg::literal(v)),
                None if takes_value => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                None => {
                    switches.push(name.to_owned());
                    None
                }
            };
            let dynamic = value.as_ref().is_some_and(|v| v.dynamic);
            let text = value.map(|v| v.text);
            match name {
                "profile" => model.profile = text,
                "region" => model.region = text,
                "endpoint-url" => model.endpoint_url = text,
                _ => {}
            }
            if dynamic && matches!(name, "profile" | "region") {
                mark(&mut model.unresolved, name);
            }
            continue;
        }
        // Short options do not exist in the AWS CLI; anything else is a positional.
        positionals.push(t.to_owned());
    }
    model.service = positionals.first().cloned();
    model.operation = positionals.get(1).cloned();
    if let (Some(service), Some(operation)) = (&model.service, &model.operation) {
        model.actions = if service == "s3" {
            s3_actions(operation, positionals.get(2..).unwrap_or_default(), &switches)
        } else {
            vec![format!("{}:{}", prefix(service), pascal(operation))]
        };
    }
    let s3 = model.service.as_deref() == Some("s3");
    let operation = model.operation.as_deref().unwrap_or_default();
    model.recursive = switches.iter().any(|s| s == "recursive")
        || (s3 && operation == "sync")
        || (s3 && operation == "rb" && switches.iter().any(|s| s == "force"));
    if model.profile.is_none() {
        mark(&mut model.unresolved, "profile");
    }
    if model.region.is_none() {
        mark(&mut model.unresolved, "region");
    }
    model
}
