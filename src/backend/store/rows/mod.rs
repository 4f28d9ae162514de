//! Rows as the database returns them, and their conversion to the model.

mod convert;
mod invalidation;
mod project;

pub(super) use convert::{convert, json_list, search_terms, submitter_ids};
pub(super) use invalidation::{ClaimRow, EventRow, InvalidationRow, TargetResultRow};
pub(super) use project::*;
