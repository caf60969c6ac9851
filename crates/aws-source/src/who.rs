//! The caller to diagnose, classified from its ARN: the account root, an IAM user, an
//! assumed-role session or a federated user.

use why403_core::policy::AwsPrincipal;

/// The caller as its ARN names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Who {
    Root {
        account: String,
    },
    User {
        arn: String,
        account: String,
        name: String,
    },
    Session {
        arn: String,
        account: String,
        role_name: String,
        session: String,
    },
    Federated {
        arn: String,
        account: String,
    },
}

impl Who {
    /// Classifies a caller ARN; the error says what is expected.
    pub(crate) fn parse(arn: &str) -> Result<Who, String> {
        Ok(match AwsPrincipal::parse(arn) {
            AwsPrincipal::Account { account } if arn.starts_with("arn:") => Who::Root { account },
            AwsPrincipal::User { arn, account } => {
                let name = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
                Who::User { arn, account, name }
            }
            AwsPrincipal::AssumedRole {
                arn,
                account,
                role_name,
                session,
            } => Who::Session {
                arn,
                account,
                role_name,
                session,
            },
            AwsPrincipal::FederatedUser { arn, account, .. } => Who::Federated { arn, account },
            AwsPrincipal::Role { account, name, .. } => {
                return Err(format!(
                    "`{arn}` is a role; a role signs requests through a session: use \
                     `arn:aws:sts::{account}:assumed-role/{name}/<session>`"
                ));
            }
            _ => {
                return Err(format!(
                    "expected the ARN of an IAM user, an assumed-role session, a federated user \
                     or an account root (`arn:aws:iam::<account>:root`), found `{arn}`"
                ));
            }
        })
    }

    pub(crate) fn account(&self) -> &str {
        match self {
            Who::Root { account }
            | Who::User { account, .. }
            | Who::Session { account, .. }
            | Who::Federated { account, .. } => account,
        }
    }

    pub(crate) fn arn(&self) -> String {
        match self {
            Who::Root { account } => format!("arn:aws:iam::{account}:root"),
            Who::User { arn, .. } | Who::Session { arn, .. } | Who::Federated { arn, .. } => {
                arn.clone()
            }
        }
    }

    /// What its IAM identity is read by: a user by its ARN, an assumed-role session by its
    /// role (every session of a role has the role's policies), others by their ARN.
    pub(crate) fn identity_key(&self) -> String {
        match self {
            Who::Session {
                account, role_name, ..
            } => format!("role {account} {role_name}"),
            _ => self.arn(),
        }
    }

    /// Whether the credentials come from an STS session that may carry a session policy.
    pub(crate) fn has_session(&self) -> bool {
        matches!(self, Who::Session { .. } | Who::Federated { .. })
    }
}
