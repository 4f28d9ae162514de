use serde::{Deserialize, Serialize};

use super::PathError;

/// One bad input field, with how to fix it: what the console shows beside the
/// field and what the API returns in `details`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.to_owned(), message: message.into(), entry: None, suggestion: None }
    }

    /// The same error about one entry of a list field.
    pub fn with_entry(mut self, entry: &str) -> Self {
        self.entry = Some(super::text::excerpt(entry));
        self
    }

    pub fn from_path(field: &str, e: &PathError) -> Self {
        FieldError {
            field: field.to_owned(),
            message: e.to_string(),
            entry: Some(super::text::excerpt(&e.entry)),
            suggestion: e.suggestion.clone(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
