//! The public vocabulary of entity types and the [`Finding`] record.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A kind of sensitive content the detectors recognise.
///
/// Built-in types have fixed snake_case names (see [`EntityType::as_str`]);
/// [`EntityType::Custom`] carries the name of a host-supplied pattern. On the
/// wire (serde, `Display`, `FromStr`) every type is its snake_case name, so a
/// policy can name `credit_card` or a custom `employee_id` the same way.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    /// Payment card number: 13–19 digits, optional spaces/dashes, Luhn-valid.
    CreditCard,
    /// International bank account number, mod-97 checked, per-country length.
    Iban,
    /// US social security number (`AAA-GG-SSSS`, bare form only with context).
    UsSsn,
    /// E-mail address with a dotted domain and an alphabetic TLD.
    Email,
    /// Telephone number: E.164 `+` forms and North American national forms.
    Phone,
    /// Dotted-quad IPv4 address, each octet ≤ 255.
    Ipv4,
    /// IPv6 address, full or `::`-compressed, validated by `std::net`.
    Ipv6,
    /// AWS access key id (`AKIA…` and siblings, 20 characters).
    AwsAccessKeyId,
    /// AWS secret access key: 40 base64-ish characters, only next to a key name.
    AwsSecretKey,
    /// GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GithubToken,
    /// Slack token (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`).
    SlackToken,
    /// Stripe API key (`sk_live_`, `rk_live_`, `pk_live_` and `_test_` forms).
    StripeKey,
    /// JSON Web Token whose header decodes to a JSON object with `"alg"`.
    Jwt,
    /// PEM private key block, `-----BEGIN … PRIVATE KEY-----` to its END line.
    PrivateKey,
    /// A host-supplied pattern, named by the host at build time.
    Custom(Arc<str>),
}

impl EntityType {
    /// Every built-in type, in a stable order (the order used in reports).
    pub const BUILTIN: [EntityType; 14] = [
        EntityType::CreditCard,
        EntityType::Iban,
        EntityType::UsSsn,
        EntityType::Email,
        EntityType::Phone,
        EntityType::Ipv4,
        EntityType::Ipv6,
        EntityType::AwsAccessKeyId,
        EntityType::AwsSecretKey,
        EntityType::GithubToken,
        EntityType::SlackToken,
        EntityType::StripeKey,
        EntityType::Jwt,
        EntityType::PrivateKey,
    ];

    /// A custom entity type with the given name.
    pub fn custom(name: &str) -> EntityType {
        EntityType::Custom(Arc::from(name))
    }

    /// The snake_case name of this type.
    pub fn as_str(&self) -> &str {
        match self {
            EntityType::CreditCard => "credit_card",
            EntityType::Iban => "iban",
            EntityType::UsSsn => "us_ssn",
            EntityType::Email => "email",
            EntityType::Phone => "phone",
            EntityType::Ipv4 => "ipv4",
            EntityType::Ipv6 => "ipv6",
            EntityType::AwsAccessKeyId => "aws_access_key_id",
            EntityType::AwsSecretKey => "aws_secret_key",
            EntityType::GithubToken => "github_token",
            EntityType::SlackToken => "slack_token",
            EntityType::StripeKey => "stripe_key",
            EntityType::Jwt => "jwt",
            EntityType::PrivateKey => "private_key",
            EntityType::Custom(name) => name,
        }
    }

    /// True for [`EntityType::Custom`].
    pub fn is_custom(&self) -> bool {
        matches!(self, EntityType::Custom(_))
    }

    /// Index of a built-in type in [`EntityType::BUILTIN`]; `None` for custom.
    pub(crate) fn builtin_index(&self) -> Option<usize> {
        EntityType::BUILTIN.iter().position(|t| t == self)
    }

    /// Overlap tie-break rank: lower wins when two findings have equal length.
    /// Custom patterns win ties (the host asked for them explicitly), then the
    /// most specific built-ins.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            EntityType::Custom(_) => 0,
            EntityType::PrivateKey => 1,
            EntityType::Jwt => 2,
            EntityType::AwsSecretKey => 3,
            EntityType::AwsAccessKeyId => 4,
            EntityType::GithubToken => 5,
            EntityType::SlackToken => 6,
            EntityType::StripeKey => 7,
            EntityType::Iban => 8,
            EntityType::CreditCard => 9,
            EntityType::Email => 10,
            EntityType::UsSsn => 11,
            EntityType::Ipv6 => 12,
            EntityType::Phone => 13,
            EntityType::Ipv4 => 14,
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = std::convert::Infallible;

    /// Built-in names map to their variant; any other name is a custom type.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(EntityType::BUILTIN
            .iter()
            .find(|t| t.as_str() == s)
            .cloned()
            .unwrap_or_else(|| EntityType::custom(s)))
    }
}

impl Serialize for EntityType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EntityType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let Ok(t) = s.parse::<EntityType>();
        Ok(t)
    }
}

/// One detected entity: its type and its byte range in the scanned text.
///
/// A finding never carries the detected value, so it is safe to log; slice
/// the scanned text with `start..end` to get at the value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    /// What was detected.
    #[serde(rename = "type")]
    pub entity: EntityType,
    /// Byte offset of the first byte (always on a `char` boundary).
    pub start: usize,
    /// Byte offset one past the last byte (always on a `char` boundary).
    pub end: usize,
}

impl Finding {
    /// Length of the finding in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// True when the finding covers no bytes (never produced by scanning).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Per-type counts of what was masked, in [`EntityType::BUILTIN`] order
/// followed by custom types in order of first appearance. Never holds values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MaskReport {
    /// `(type, number of values masked)`, one entry per type seen.
    pub counts: Vec<(EntityType, usize)>,
}

impl MaskReport {
    /// Total number of masked values.
    pub fn total(&self) -> usize {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// Count for one type (0 when absent).
    pub fn count(&self, entity: &EntityType) -> usize {
        self.counts.iter().find(|(t, _)| t == entity).map_or(0, |(_, n)| *n)
    }

    /// Add `n` to the count of `entity`, keeping the canonical order.
    pub fn add(&mut self, entity: &EntityType, n: usize) {
        if n == 0 {
            return;
        }
        if let Some((_, c)) = self.counts.iter_mut().find(|(t, _)| t == entity) {
            *c += n;
            return;
        }
        let key = sort_key(entity);
        let pos =
            self.counts.iter().position(|(t, _)| sort_key(t) > key).unwrap_or(self.counts.len());
        self.counts.insert(pos, (entity.clone(), n));
    }

    /// Fold another report into this one.
    pub fn merge(&mut self, other: &MaskReport) {
        for (t, n) in &other.counts {
            self.add(t, *n);
        }
    }
}

fn sort_key(t: &EntityType) -> usize {
    // Built-ins first in BUILTIN order; customs after, in insertion order
    // (equal keys keep insertion order because `add` inserts after them).
    t.builtin_index().unwrap_or(EntityType::BUILTIN.len())
}

impl fmt::Display for MaskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (t, n) in &self.counts {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{t}={n}")?;
        }
        Ok(())
    }
}
