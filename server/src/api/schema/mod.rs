//! Request and response bodies of both API families, with their OpenAPI
//! schemas. Domain enums are wrapped so their schema lists exactly the values
//! the domain type serialises to. The shared pieces live in `shared`; each API
//! family's bodies in its own file.

mod anchor;
mod shared;
mod v1;

pub use anchor::*;
pub use shared::*;
pub use v1::*;
