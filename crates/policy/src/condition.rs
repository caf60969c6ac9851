//! Condition operators and their evaluation, per AWS's documented semantics: AND across
//! operators and keys, OR across values (NOR for negated operators), `...IfExists`,
//! `ForAllValues:` / `ForAnyValue:`, the missing-key rules, and policy variables.

mod value;

use std::fmt;

use crate::context::{ContextValue, RequestContext};
use crate::json::Span;
use crate::policy::Located;

pub use value::{CondValue, Number, TextValue, parse_aws_date};

/// The operator family: decides how values are parsed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `String...` operators: text, with wildcards for `StringLike`.
    String,
    /// `Numeric...` operators: integers kept exact, other numbers as `f64`.
    Numeric,
    /// `Date...` operators: ISO 8601 dates and epoch seconds.
    Date,
    /// `Bool`: `true` or `false`, in any case.
    Bool,
    /// `BinaryEquals`: base64-encoded bytes.
    Binary,
    /// `IpAddress` and `NotIpAddress`: addresses and CIDR blocks.
    Ip,
    /// `Arn...` operators: ARNs matched part by part.
    Arn,
    /// `Null`: whether the key is absent.
    Null,
}

/// A base operator (without `ForAllValues:`/`ForAnyValue:` or `IfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOp {
    /// Exact, case-sensitive string match.
    StringEquals,
    /// Negated [`BaseOp::StringEquals`].
    StringNotEquals,
    /// String match ignoring case.
    StringEqualsIgnoreCase,
    /// Negated [`BaseOp::StringEqualsIgnoreCase`].
    StringNotEqualsIgnoreCase,
    /// Case-sensitive match with `*` and `?` wildcards.
    StringLike,
    /// Negated [`BaseOp::StringLike`].
    StringNotLike,
    /// The request number equals the policy number.
    NumericEquals,
    /// Negated [`BaseOp::NumericEquals`].
    NumericNotEquals,
    /// The request number is less than the policy number.
    NumericLessThan,
    /// The request number is at most the policy number.
    NumericLessThanEquals,
    /// The request number is greater than the policy number.
    NumericGreaterThan,
    /// The request number is at least the policy number.
    NumericGreaterThanEquals,
    /// The request date is the policy date.
    DateEquals,
    /// Negated [`BaseOp::DateEquals`].
    DateNotEquals,
    /// The request date is before the policy date.
    DateLessThan,
    /// The request date is at or before the policy date.
    DateLessThanEquals,
    /// The request date is after the policy date.
    DateGreaterThan,
    /// The request date is at or after the policy date.
    DateGreaterThanEquals,
    /// The request value is `true` or `false` (in any case) as the policy value says.
    Bool,
    /// The request value's base64-decoded bytes equal the policy value's.
    BinaryEquals,
    /// The request address is in the policy's CIDR block.
    IpAddress,
    /// Negated [`BaseOp::IpAddress`].
    NotIpAddress,
    /// Case-sensitive ARN match, each of the six parts separately, with the wildcards of
    /// [`BaseOp::ArnLike`] (AWS gives the two the same semantics).
    ArnEquals,
    /// Case-sensitive ARN match, each of the six parts separately, with `*` and `?`
    /// wildcards that never cross one of the first five colons.
    ArnLike,
    /// Negated [`BaseOp::ArnEquals`].
    ArnNotEquals,
    /// Negated [`BaseOp::ArnLike`].
    ArnNotLike,
    /// Tests presence: `true` holds when the key is absent (or empty), `false` when present.
    Null,
}

const BASE_OPS: &[(&str, BaseOp)] = &[
    ("StringEquals", BaseOp::StringEquals),
    ("StringNotEquals", BaseOp::StringNotEquals),
    ("StringEqualsIgnoreCase", BaseOp::StringEqualsIgnoreCase),
    (
        "StringNotEqualsIgnoreCase",
        BaseOp::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOp::StringLike),
    ("StringNotLike", BaseOp::StringNotLike),
    ("NumericEquals", BaseOp::NumericEquals),
    ("NumericNotEquals", BaseOp::NumericNotEquals),
    ("NumericLessThan", BaseOp::NumericLessThan),
    ("NumericLessThanEquals", BaseOp::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOp::NumericGreaterThan),
    ("NumericGreaterThanEquals", BaseOp::NumericGreaterThanEquals),
    ("DateEquals", BaseOp::DateEquals),
    ("DateNotEquals", BaseOp::DateNotEquals),
    ("DateLessThan", BaseOp::DateLessThan),
    ("DateLessThanEquals", BaseOp::DateLessThanEquals),
    ("DateGreaterThan", BaseOp::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOp::DateGreaterThanEquals),
    ("Bool", BaseOp::Bool),
    ("BinaryEquals", BaseOp::BinaryEquals),
    ("IpAddress", BaseOp::IpAddress),
    ("NotIpAddress", BaseOp::NotIpAddress),
    ("ArnEquals", BaseOp::ArnEquals),
    ("ArnLike", BaseOp::ArnLike),
    ("ArnNotEquals", BaseOp::ArnNotEquals),
    ("ArnNotLike", BaseOp::ArnNotLike),
    ("Null", BaseOp::Null),
];

impl BaseOp {
    /// The operator's name as written in policies, e.g. `StringNotLike`.
    pub fn name(self) -> &'static str {
        BASE_OPS
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(n, _)| n)
    }

    /// The family that decides how the operator's values are parsed and compared.
    pub fn family(self) -> Family {
        use BaseOp::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Negated operators match when the value matches none of the policy values, and are
    /// true when the key is absent.
    pub fn is_negated(self) -> bool {
        use BaseOp::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// Every request value must satisfy the operator (true when the key is absent or empty).
    ForAllValues,
    /// At least one request value must satisfy the operator (false when the key is absent or
    /// empty).
    ForAnyValue,
}

/// A full condition operator as written in a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The `ForAllValues:` or `ForAnyValue:` prefix, if any.
    pub set: Option<SetOp>,
    /// The operator without prefix or suffix.
    pub base: BaseOp,
    /// The `IfExists` suffix: the condition holds when the key is absent or empty (except
    /// with `ForAnyValue:`, which never holds then).
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name such as `ForAnyValue:StringNotLikeIfExists`. Operator names
    /// are case-sensitive, as AWS's policy validator treats them.
    pub fn parse(name: &str) -> Result<Operator, String> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetOp::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOp::ForAnyValue), r)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = BASE_OPS
            .iter()
            .find(|(n, _)| *n == base_name)
            .map(|(_, op)| *op);
        match base {
            Some(BaseOp::Null) if if_exists => Err("`Null` has no `IfExists` form".into()),
            Some(base) => Ok(Operator {
                set,
                base,
                if_exists,
            }),
            None => {
                let close = BASE_OPS
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(base_name))
                    .map(|(n, _)| {
                        format!(" (did you mean `{n}`? operator names are case-sensitive)")
                    })
                    .unwrap_or_default();
                Err(format!("unknown condition operator `{name}`{close}"))
            }
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.set {
            Some(SetOp::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetOp::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// One operator and key of a `Condition` block with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator.
    pub op: Operator,
    /// Byte range of the operator's name (the member key) in the policy text.
    pub op_span: Span,
    /// JSON pointer of the operator's block, e.g. `/Statement/0/Condition/StringEquals`.
    pub op_pointer: String,
    /// The key as written.
    pub key: String,
    /// The key lower-cased, as the request context looks keys up.
    pub key_lower: String,
    /// [`crate::context::key_hash`] of `key_lower`.
    pub(crate) key_hash: u64,
    /// Byte range of the key's name in the policy text.
    pub key_span: Span,
    /// JSON pointer of the key's member, e.g. `/Statement/0/Condition/StringEquals/aws:SourceVpc`.
    pub key_pointer: String,
    /// The values in document order (a single value is a list of one), compiled for the
    /// operator's family.
    pub values: Vec<Located<CondValue>>,
}

/// Why a condition came out as it did; cheap to produce, rendered on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondWhy {
    /// The key is absent from the request.
    KeyAbsent,
    /// The key is present but has no values (an empty set).
    KeyEmpty,
    /// Present, and some value matched (index of the first matching policy value).
    Matched(usize),
    /// Present, and no value matched.
    NoMatch,
    /// `ForAllValues`: this request value (index) matched no policy value.
    ValueOutsideSet(usize),
    /// A value could not be compared: a policy variable without a value, a policy value that
    /// is not of the operator's type, or a request value that is not (an IP, a number, a date,
    /// an ARN). Such a comparison never matches, and makes a negated operator false.
    Incomparable,
}

/// The result of one condition: true or false, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CondResult {
    /// Whether the condition is true for the request.
    pub holds: bool,
    /// What decided it.
    pub why: CondWhy,
}

impl Condition {
    /// Evaluates the condition against the request context.
    pub fn evaluate(&self, ctx: &RequestContext) -> CondResult {
        let found = ctx.get_hashed(self.key_hash, &self.key_lower);
        let base = self.op.base;
        if base == BaseOp::Null {
            return self.eval_null(found);
        }
        let present: Option<&ContextValue> = found.filter(|v| !v.values.is_empty());
        let Some(cv) = present else {
            let why = if found.is_some() {
                CondWhy::KeyEmpty
            } else {
                CondWhy::KeyAbsent
            };
            // Absent or empty: ForAllValues is vacuously true; ForAnyValue false, with or
            // without IfExists (no value can match; AWS denies an Allow on
            // `ForAnyValue:StringEqualsIfExists` when the key is absent); otherwise IfExists
            // and negated operators true, everything else false.
            let holds = match self.op.set {
                Some(SetOp::ForAllValues) => true,
                Some(SetOp::ForAnyValue) => false,
                None => self.op.if_exists || base.is_negated(),
            };
            return CondResult { holds, why };
        };
        let negated = base.is_negated();
        match self.op.set {
            None => {
                // Single-valued use: the request value matches if it matches any policy value
                // (for several request values, any of them); negated operators hold when no
                // policy value matches (NOR) and every comparison was possible.
                let mut outcome = Cmp::NoMatch;
                for v in &cv.values {
                    match self.compare(v, ctx) {
                        Cmp::Match(i) => {
                            outcome = Cmp::Match(i);
                            break;
                        }
                        Cmp::Incomparable => outcome = Cmp::Incomparable,
                        Cmp::NoMatch => {}
                    }
                }
                match outcome {
                    Cmp::Match(i) => CondResult {
                        holds: !negated,
                        why: CondWhy::Matched(i),
                    },
                    Cmp::NoMatch => CondResult {
                        holds: negated,
                        why: CondWhy::NoMatch,
                    },
                    Cmp::Incomparable => CondResult {
                        holds: false,
                        why: CondWhy::Incomparable,
                    },
                }
            }
            Some(SetOp::ForAllValues) => {
                for (ri, v) in cv.values.iter().enumerate() {
                    if !self.value_satisfies(v, ctx, negated) {
                        return CondResult {
                            holds: false,
                            why: CondWhy::ValueOutsideSet(ri),
                        };
                    }
                }
                CondResult {
                    holds: true,
                    why: CondWhy::Matched(0),
                }
            }
            Some(SetOp::ForAnyValue) => {
                for (ri, v) in cv.values.iter().enumerate() {
                    if self.value_satisfies(v, ctx, negated) {
                        return CondResult {
                            holds: true,
                            why: CondWhy::Matched(ri),
                        };
                    }
                }
                CondResult {
                    holds: false,
                    why: CondWhy::NoMatch,
                }
            }
        }
    }

    /// One request value against the policy values: positive operators need a match,
    /// negated ones need every comparison possible and none matching.
    fn value_satisfies(&self, v: &str, ctx: &RequestContext, negated: bool) -> bool {
        match self.compare(v, ctx) {
            Cmp::Match(_) => !negated,
            Cmp::NoMatch => negated,
            Cmp::Incomparable => false,
        }
    }

    fn eval_null(&self, found: Option<&ContextValue>) -> CondResult {
        let absent = found.is_none_or(|v| v.values.is_empty());
        for (i, v) in self.values.iter().enumerate() {
            if let CondValue::Null(want_absent) = v.value
                && want_absent == absent
            {
                return CondResult {
                    holds: true,
                    why: CondWhy::Matched(i),
                };
            }
        }
        let why = if absent {
            CondWhy::KeyAbsent
        } else {
            CondWhy::NoMatch
        };
        CondResult { holds: false, why }
    }

    /// Compares one request value with the policy values under the positive form of the
    /// operator.
    fn compare(&self, v: &str, ctx: &RequestContext) -> Cmp {
        let mut out = Cmp::NoMatch;
        for (i, pv) in self.values.iter().enumerate() {
            match pv.value.matches(self.op.base, v, ctx) {
                Some(true) => return Cmp::Match(i),
                Some(false) => {}
                None => out = Cmp::Incomparable,
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Match(usize),
    NoMatch,
    Incomparable,
}

#[cfg(test)]
mod tests;
