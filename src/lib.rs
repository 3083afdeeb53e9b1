//! shiplint: a CI-native linter for infrastructure repositories.
//!
//! discover → parse (with spans) → packs → findings → filters → reporters.

pub mod app;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod config_rules;
pub mod diff;
pub mod discover;
pub mod exempt;
pub mod finding;
pub mod fix;
pub mod git;
pub mod github;
pub mod http;
pub mod k8s;
pub mod kustomize;
pub mod locate;
pub mod manifest;
pub mod packs;
pub mod render;
pub mod report;
pub mod risk;
pub mod scan;
pub mod settings;
pub mod shard;
pub mod source;
pub mod suppress;
pub mod text;
pub mod trust;
