//! The one origin-path parser shared by the browser form, the server, the
//! public API and the edge cache key. Two spellings of the same file must
//! produce the same canonical string, or a flush silently misses the cache.

mod error;
mod list;
mod origin;
mod suggest;

pub use error::{PathError, PathErrorReason};
pub use list::{
    parse_path_list, parse_path_list_max, split_entries, validate_paths, ParsedList, PathListError, API_MAX_PATHS,
    CONSOLE_MAX_PATHS, MAX_LIST_BYTES, MAX_LIST_ERRORS,
};
pub use origin::*;
