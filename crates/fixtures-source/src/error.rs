//! Errors of the scenario reader: every one names the file, the line and column, the JSON
//! pointer of the offending value and what was expected.

use std::fmt;

use why403_core::PolicyError;

/// A place in the scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Byte offset in the file.
    pub offset: usize,
    /// JSON pointer of the value (RFC 6901); empty for the whole document.
    pub pointer: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        if !self.pointer.is_empty() {
            write!(f, ": {}", self.pointer)?;
        }
        Ok(())
    }
}

/// A scenario file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read the scenario file: {source}")]
    Read {
        /// The file, as the caller named it.
        file: String,
        /// What the operating system answered.
        #[source]
        source: std::io::Error,
    },
    /// The file is in another encoding (UTF-16).
    #[error("{file}: {message}")]
    Encoding {
        /// The file, as the caller named it.
        file: String,
        /// Which encoding was found, and what to do.
        message: String,
    },
    /// The file is not UTF-8 text: `at` is the first invalid byte.
    #[error("{at}: the file is not UTF-8 text (byte 0x{byte:02X}); save it as UTF-8")]
    NotUtf8 {
        /// Where the first invalid byte is.
        at: Location,
        /// Its value.
        byte: u8,
    },
    /// The file is larger than [`MAX_SCENARIO_BYTES`](crate::MAX_SCENARIO_BYTES).
    #[error(
        "{file}: the file is larger than {} MiB, the limit of a scenario file (of \
         `account_authorization_details`, the caller's entries are enough)",
        crate::MAX_SCENARIO_BYTES >> 20
    )]
    TooLarge {
        /// The file, as the caller named it.
        file: String,
    },
    /// The text is not JSON.
    #[error("{at}: not valid JSON: {message}")]
    Syntax {
        /// Where the JSON breaks.
        at: Location,
        /// What was expected there.
        message: String,
    },
    /// The JSON does not have the scenario's shape: a missing or unknown field, a wrong type,
    /// an unexpected value, or evidence that contradicts the request.
    #[error("{at}: {message}")]
    Shape {
        /// The value that does not fit.
        at: Location,
        /// What is wrong with it and what the format expects.
        message: String,
    },
    /// A policy document in the scenario is invalid. When the document was a JSON string
    /// (`in_string`), `at` is the string in the file and the policy error is located inside
    /// the decoded string; otherwise `at` is the offending element in the file itself.
    #[error("{at}: invalid policy: {}", policy_detail(error, *in_string))]
    Policy {
        /// The policy in the file (the JSON string, or the offending element).
        at: Location,
        /// Whether the policy was a JSON string, decoded before it was read.
        in_string: bool,
        /// The policy language's error, located in the policy's own text.
        error: Box<PolicyError>,
    },
}

fn policy_detail(e: &PolicyError, in_string: bool) -> String {
    if !in_string {
        return e.message.clone();
    }
    if e.pointer.is_empty() {
        format!("{}:{}: {}", e.line, e.column, e.message)
    } else {
        format!("{}:{}: at {}: {}", e.line, e.column, e.pointer, e.message)
    }
}

impl ScenarioError {
    /// Where in the file the error is, when it is about the file's content.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ScenarioError::Syntax { at, .. }
            | ScenarioError::Shape { at, .. }
            | ScenarioError::Policy { at, .. }
            | ScenarioError::NotUtf8 { at, .. } => Some(at),
            ScenarioError::Read { .. }
            | ScenarioError::Encoding { .. }
            | ScenarioError::TooLarge { .. } => None,
        }
    }
}
