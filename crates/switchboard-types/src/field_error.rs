//! A form field's error, shared by every layer that validates what the admin typed (the
//! settings, the bot flow, the JSON properties), so that none of them depends on another
//! just to report one.

use serde::Serialize;
use ts_rs::TS;

/// One invalid field: where it is (a dotted path, as the forms name fields) and why.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
