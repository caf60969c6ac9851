//! The rule bundle: links every built-in rule crate so its rules register.
