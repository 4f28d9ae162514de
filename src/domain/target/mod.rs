//! Purge targets: their kinds (one spec each), and each kind's settings.

mod fields;
mod kind;
mod settings;

pub use fields::{Check, SettingSpec, SHIELD, SHIELD_TIER};
pub use kind::{KindSpec, Step, TargetKind, UnknownTargetKind, KINDS};
pub use settings::{check_settings, CheckedSettings, TargetSettings};
