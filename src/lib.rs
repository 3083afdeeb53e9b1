//! shiplint: a CI-native linter for infrastructure repositories.
//!
//! discover → parse (with spans) → packs → findings → filters → reporters.

pub mod app;
// The lower layers live in their own crates (crates/): Cargo forbids them
// to use anything above. Re-exported under the paths the code names them by.
pub use shiplint_core::{diff, finding, text};
pub use shiplint_yaml::{manifest, source};
pub mod baseline;
pub mod cli;
pub mod config;
pub mod config_rules;
pub mod discover;
pub mod exempt;
pub mod fix;
pub mod git;
pub mod github;
pub mod http;
pub mod k8s;
pub mod kustomize;
pub mod locate;
pub mod packs;
pub mod render;
pub mod report;
pub mod risk;
pub mod scan;
pub mod settings;
pub mod shard;
pub mod suppress;
pub mod trust;
