//! Principal values of resource-based policies (`Principal` / `NotPrincipal`) and of requests.

/// One value of a `Principal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalValue {
    /// `"*"` or `{"AWS": "*"}`: everyone, including anonymous callers.
    Any,
    /// `{"AWS": "..."}` (or a bare ARN or account id): an account, IAM identity or session.
    Aws(AwsPrincipal),
    /// `{"Service": "..."}`.
    Service(String),
    /// `{"Federated": "..."}`: an identity provider.
    Federated(String),
    /// `{"CanonicalUser": "..."}`: an S3 canonical user id.
    CanonicalUser(String),
}

/// An `AWS` principal: an account, an IAM identity or an STS session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsPrincipal {
    /// A bare account id or `arn:<partition>:iam::<account>:root`.
    Account {
        /// The account id, as given bare or in the root ARN.
        account: String,
    },
    /// `arn:<partition>:iam::<account>:user/<path/>name`.
    User {
        /// The user's ARN as written.
        arn: String,
        /// The account id from the ARN.
        account: String,
    },
    /// `arn:<partition>:iam::<account>:role/<path/>name`.
    Role {
        /// The role's ARN as written, path included.
        arn: String,
        /// The account id from the ARN.
        account: String,
        /// The role name, without its path.
        name: String,
    },
    /// `arn:<partition>:sts::<account>:assumed-role/<role-name>/<session>`.
    AssumedRole {
        /// The session's ARN as written.
        arn: String,
        /// The account id from the ARN.
        account: String,
        /// The name of the assumed role (a session ARN carries no role path).
        role_name: String,
        /// The role session name.
        session: String,
    },
    /// `arn:<partition>:sts::<account>:federated-user/<name>`.
    FederatedUser {
        /// The federated user's ARN as written.
        arn: String,
        /// The account id from the ARN.
        account: String,
        /// The federated user's name.
        name: String,
    },
    /// Anything else: a unique id (`AROA...`, left by a deleted role) or another ARN.
    Other {
        /// The value as written.
        value: String,
    },
}

impl AwsPrincipal {
    /// Classifies an account id or principal ARN.
    pub fn parse(value: &str) -> AwsPrincipal {
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            return AwsPrincipal::Account {
                account: value.to_owned(),
            };
        }
        let other = || AwsPrincipal::Other {
            value: value.to_owned(),
        };
        let Some(parts) = crate::pattern::split_arn(value) else {
            return other();
        };
        let [_, _, service, _, account, resource] = parts;
        let account = account.to_owned();
        match service {
            "iam" => {
                if resource == "root" {
                    AwsPrincipal::Account { account }
                } else if resource.starts_with("user/") {
                    AwsPrincipal::User {
                        arn: value.to_owned(),
                        account,
                    }
                } else if let Some(rest) = resource.strip_prefix("role/") {
                    let name = rest.rsplit('/').next().unwrap_or(rest).to_owned();
                    AwsPrincipal::Role {
                        arn: value.to_owned(),
                        account,
                        name,
                    }
                } else {
                    other()
                }
            }
            "sts" => {
                if let Some(rest) = resource.strip_prefix("assumed-role/") {
                    match rest.split_once('/') {
                        Some((role, session)) => AwsPrincipal::AssumedRole {
                            arn: value.to_owned(),
                            account,
                            role_name: role.to_owned(),
                            session: session.to_owned(),
                        },
                        None => other(),
                    }
                } else if let Some(name) = resource.strip_prefix("federated-user/") {
                    AwsPrincipal::FederatedUser {
                        arn: value.to_owned(),
                        account,
                        name: name.to_owned(),
                    }
                } else {
                    other()
                }
            }
            _ => other(),
        }
    }

    /// The account the principal belongs to, when the value names one.
    pub fn account(&self) -> Option<&str> {
        match self {
            AwsPrincipal::Account { account }
            | AwsPrincipal::User { account, .. }
            | AwsPrincipal::Role { account, .. }
            | AwsPrincipal::AssumedRole { account, .. }
            | AwsPrincipal::FederatedUser { account, .. } => Some(account),
            AwsPrincipal::Other { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_principal_forms() {
        // AWS: the account may be given as a bare id or as the account's root ARN.
        assert_eq!(
            AwsPrincipal::parse("123456789012"),
            AwsPrincipal::Account {
                account: "123456789012".into()
            }
        );
        assert_eq!(
            AwsPrincipal::parse("arn:aws:iam::123456789012:root"),
            AwsPrincipal::Account {
                account: "123456789012".into()
            }
        );
        assert!(matches!(
            AwsPrincipal::parse("arn:aws:iam::123456789012:role/path/to/Admin"),
            AwsPrincipal::Role { name, .. } if name == "Admin"
        ));
        assert!(matches!(
            AwsPrincipal::parse("arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            AwsPrincipal::AssumedRole { role_name, session, .. } if role_name == "Admin" && session == "alice"
        ));
        assert!(matches!(
            AwsPrincipal::parse("arn:aws:sts::123456789012:federated-user/bob"),
            AwsPrincipal::FederatedUser { name, .. } if name == "bob"
        ));
        assert!(matches!(
            AwsPrincipal::parse("AROAEXAMPLEID"),
            AwsPrincipal::Other { .. }
        ));
    }
}
