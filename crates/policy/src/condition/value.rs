//! Condition values compiled per operator family, and the positive comparison of one request
//! value against one policy value.

use std::net::IpAddr;
use std::str::FromStr;

use base64::Engine as _;
use ipnet::IpNet;
use jiff::Timestamp;

use super::{BaseOp, Family};
use crate::context::RequestContext;
use crate::pattern::{Glob, Template, arn_match, split_glob_arn};

/// A compiled condition value.
#[derive(Debug, Clone, PartialEq)]
pub enum CondValue {
    /// String and ARN operators (and `Bool` with a variable): a template, precompiled when
    /// it has no variables.
    Text(TextValue),
    /// `Numeric...` operators: the number.
    Number(Number),
    /// `Date...` operators: the instant, as parsed by [`parse_aws_date`].
    Date(Timestamp),
    /// `Bool` without a variable: the value `true` or `false` (given in any case).
    Bool(bool),
    /// `BinaryEquals`: the base64-decoded bytes.
    Binary(Vec<u8>),
    /// `IpAddress` and `NotIpAddress`: the CIDR block; a bare address is a /32 or /128.
    Ip(IpNet),
    /// `Null`: true means "the key must be absent".
    Null(bool),
    /// A value the operator cannot use (for example `NumericLessThan: "ten"`): it matches no
    /// request value.
    Invalid {
        /// Why the value is unusable, in words (quoting the value).
        why: String,
    },
}

/// A string or ARN value.
#[derive(Debug, Clone, PartialEq)]
pub struct TextValue {
    /// The value as a template: plain text, or with policy variables under Version
    /// 2012-10-17.
    pub template: Template,
    glob: Option<Glob>,
    arn: Option<Vec<Glob>>,
}

impl CondValue {
    /// Compiles one value for an operator; `variables` is true under Version 2012-10-17.
    pub(crate) fn compile(base: BaseOp, raw: &str, variables: bool) -> CondValue {
        match base.family() {
            Family::String | Family::Arn => {
                let template = Template::parse(raw, variables);
                let (glob, arn) = match template.as_plain() {
                    Some(p) if base.family() == Family::Arn => {
                        let segs = split_glob_arn(&Glob::new(p));
                        if segs.len() < 6 {
                            return CondValue::Invalid {
                                why: format!("`{raw}` is not an ARN (it has fewer than six parts)"),
                            };
                        }
                        (None, Some(segs))
                    }
                    Some(p) if matches!(base, BaseOp::StringLike | BaseOp::StringNotLike) => {
                        (Some(Glob::new(p)), None)
                    }
                    _ => (None, None),
                };
                CondValue::Text(TextValue {
                    template,
                    glob,
                    arn,
                })
            }
            Family::Numeric => match Number::parse(raw.trim()) {
                Some(n) => CondValue::Number(n),
                _ => CondValue::Invalid {
                    why: format!("`{raw}` is not a number"),
                },
            },
            Family::Date => match parse_aws_date(raw) {
                Some(t) => CondValue::Date(t),
                None => CondValue::Invalid {
                    why: format!("`{raw}` is not a date AWS accepts"),
                },
            },
            Family::Bool => match parse_bool(raw) {
                Some(b) => CondValue::Bool(b),
                None if variables && raw.contains("${") => CondValue::Text(TextValue {
                    template: Template::parse(raw, true),
                    glob: None,
                    arn: None,
                }),
                None => CondValue::Invalid {
                    why: format!("`{raw}` is not `true` or `false`"),
                },
            },
            Family::Binary => match base64::engine::general_purpose::STANDARD.decode(raw.trim()) {
                Ok(b) => CondValue::Binary(b),
                Err(_) => CondValue::Invalid {
                    why: format!("`{raw}` is not base64"),
                },
            },
            Family::Ip => match parse_ip_net(raw) {
                Some(n) => CondValue::Ip(n),
                None => CondValue::Invalid {
                    why: format!("`{raw}` is not an IP address or CIDR block"),
                },
            },
            Family::Null => match parse_bool(raw) {
                Some(b) => CondValue::Null(b),
                None => CondValue::Invalid {
                    why: format!("`Null` takes `true` or `false`, not `{raw}`"),
                },
            },
        }
    }

    /// Whether the request value `v` matches this policy value under the positive form of
    /// `base`; `None` when they cannot be compared (a policy variable without a value, an
    /// invalid policy value, or a request value of the wrong type).
    pub(crate) fn matches(&self, base: BaseOp, v: &str, ctx: &RequestContext) -> Option<bool> {
        use BaseOp::*;
        Some(match self {
            CondValue::Text(t) => match base {
                StringEquals | StringNotEquals => match t.template.as_plain() {
                    Some(p) => p == v,
                    None => t.template.to_text(ctx).ok()? == v,
                },
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => match t.template.as_plain() {
                    Some(p) => eq_ignore_case(p, v),
                    None => eq_ignore_case(&t.template.to_text(ctx).ok()?, v),
                },
                StringLike | StringNotLike => match &t.glob {
                    Some(g) => g.matches(v),
                    None => t.template.to_glob(ctx).ok()?.matches(v),
                },
                ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                    let parts = crate::pattern::split_arn(v)?;
                    match &t.arn {
                        Some(segs) if segs.len() == 6 => {
                            segs.iter().zip(parts).all(|(g, p)| g.matches(p))
                        }
                        Some(segs) => arn_match(segs, v),
                        None => {
                            let segs = split_glob_arn(&t.template.to_glob(ctx).ok()?);
                            if segs.len() < 6 {
                                return None;
                            }
                            arn_match(&segs, v)
                        }
                    }
                }
                Bool => parse_bool(&t.template.to_text(ctx).ok()?)? == parse_bool(v)?,
                _ => false,
            },
            CondValue::Number(n) => {
                let o = compare_numbers(n, v.trim())?;
                match base {
                    NumericEquals | NumericNotEquals => o.is_eq(),
                    NumericLessThan => o.is_lt(),
                    NumericLessThanEquals => o.is_le(),
                    NumericGreaterThan => o.is_gt(),
                    NumericGreaterThanEquals => o.is_ge(),
                    _ => false,
                }
            }
            CondValue::Date(d) => match parse_aws_date(v) {
                Some(x) => match base {
                    DateEquals | DateNotEquals => x == *d,
                    DateLessThan => x < *d,
                    DateLessThanEquals => x <= *d,
                    DateGreaterThan => x > *d,
                    DateGreaterThanEquals => x >= *d,
                    _ => false,
                },
                None => return None,
            },
            CondValue::Bool(b) => parse_bool(v)? == *b,
            CondValue::Binary(bytes) => {
                base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .ok()?
                    == *bytes
            }
            CondValue::Ip(net) => net.contains(&parse_ip(v)?),
            CondValue::Null(_) => false,
            CondValue::Invalid { .. } => return None,
        })
    }
}

/// A number from a policy: whole numbers are kept exactly (an `f64` loses integers above
/// 2^53), others as `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    /// The number as an `f64` (always finite).
    pub value: f64,
    /// The number exactly, when it is written as an integer that fits an `i128`.
    pub int: Option<i128>,
}

impl Number {
    /// Parses a number; `None` if the text is not one or is not finite.
    pub(crate) fn parse(s: &str) -> Option<Number> {
        let value = s.parse::<f64>().ok().filter(|v| v.is_finite())?;
        Some(Number {
            value,
            int: s.parse::<i128>().ok(),
        })
    }
}

/// Orders the request value `v` against the policy number; `None` if `v` is not a number.
fn compare_numbers(n: &Number, v: &str) -> Option<std::cmp::Ordering> {
    let x = Number::parse(v)?;
    match (x.int, n.int) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => x.value.partial_cmp(&n.value),
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    IpAddr::from_str(s).ok().or_else(|| {
        // A request value given as a one-address CIDR.
        IpNet::from_str(s)
            .ok()
            .filter(|n| n.prefix_len() == n.max_prefix_len())
            .map(|n| n.addr())
    })
}

/// A CIDR block (host bits may be set, as AWS tolerates) or a bare address (/32, /128).
fn parse_ip_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    IpNet::from_str(s)
        .ok()
        .or_else(|| IpAddr::from_str(s).ok().map(IpNet::from))
}

/// Parses the date forms AWS accepts in `Date*` conditions and in `aws:CurrentTime`:
/// ISO 8601 date-times with `Z` or an offset (extended or basic form, optional fraction),
/// a date-time without offset (UTC), a date alone (midnight UTC), and epoch seconds.
pub fn parse_aws_date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let is_epoch = body.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|&b| b == b'.').count() <= 1;
    if is_epoch {
        // Epoch seconds, possibly with a fraction.
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let secs: i64 = whole.parse().ok()?;
        let nanos: i32 = if frac.is_empty() {
            0
        } else {
            let digits: String = frac.chars().take(9).collect();
            let n: i32 = digits.parse().ok()?;
            n * 10i32.pow(9 - digits.len() as u32)
        };
        return Timestamp::new(secs, if secs < 0 { -nanos } else { nanos }).ok();
    }
    if let Ok(t) = Timestamp::from_str(s) {
        return Some(t);
    }
    if let Ok(dt) = jiff::civil::DateTime::from_str(s) {
        return dt
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    // The W3C year-month profile, `YYYY-MM`: the first day of the month.
    if s.len() == 7 && s.as_bytes()[4] == b'-' {
        return parse_aws_date(&format!("{s}-01"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_aws_form() {
        // AWS: Date operators take ISO 8601 (W3C profiles) or epoch seconds.
        let t = |s| parse_aws_date(s).map(|t| t.as_second());
        assert_eq!(t("2024-01-01T00:00:00Z"), Some(1_704_067_200));
        assert_eq!(t("2024-01-01T02:00:00+02:00"), Some(1_704_067_200));
        assert_eq!(t("2024-01-01T00:00:00.123Z"), Some(1_704_067_200));
        assert_eq!(t("2024-01-01"), Some(1_704_067_200));
        assert_eq!(t("2024-01-01T00:00:00"), Some(1_704_067_200));
        assert_eq!(t("20240101T000000Z"), Some(1_704_067_200));
        assert_eq!(t("1704067200"), Some(1_704_067_200));
        assert_eq!(t("yesterday"), None);
        assert_eq!(t(""), None);
    }

    #[test]
    fn ip_values_take_bare_addresses_and_host_bits() {
        // AWS: a bare address is a /32 (or /128); a CIDR with host bits set is accepted.
        assert_eq!(
            parse_ip_net("10.1.2.3"),
            IpNet::from_str("10.1.2.3/32").ok()
        );
        assert!(
            parse_ip_net("10.1.2.3/8")
                .unwrap()
                .contains(&IpAddr::from_str("10.9.9.9").unwrap())
        );
        assert!(
            parse_ip_net("2001:db8::/32")
                .unwrap()
                .contains(&IpAddr::from_str("2001:db8::1").unwrap())
        );
        assert!(parse_ip_net("nope").is_none());
    }
}
