//! The live AWS source (aws-sdk-*); a stub until its issue.
