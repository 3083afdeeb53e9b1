//! The deprecation table (`rules/deprecations.yaml`, embedded at build
//! time): which apiVersion/kind Kubernetes deprecated or removed, when, and
//! what replaces it. The `deprecations` pack judges resources with it.

use super::KubeVersion;
use crate::manifest::yaml;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

static TABLE_YAML: &str = include_str!("../../rules/deprecations.yaml");

/// One deprecated (apiVersion, kind).
#[derive(Debug, Clone, Deserialize)]
pub struct Deprecation {
    pub api_version: String,
    pub kind: String,
    pub deprecated_in: Option<String>,
    pub removed_in: Option<String>,
    #[serde(default)]
    pub replacement: String,
    #[serde(default)]
    pub replacement_since: String,
    #[serde(default)]
    pub fields_change: bool,
    #[serde(default)]
    pub notes: String,
}

impl Deprecation {
    pub fn deprecated(&self) -> Option<KubeVersion> {
        self.deprecated_in
            .as_deref()
            .and_then(|v| KubeVersion::parse(v).ok())
    }

    pub fn removed(&self) -> Option<KubeVersion> {
        self.removed_in
            .as_deref()
            .and_then(|v| KubeVersion::parse(v).ok())
    }
}

/// The embedded table, keyed by (apiVersion, kind).
pub fn table() -> &'static HashMap<(String, String), Deprecation> {
    static TABLE: OnceLock<HashMap<(String, String), Deprecation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let list: Vec<Deprecation> = yaml::embedded("rules/deprecations.yaml", TABLE_YAML);
        list.into_iter()
            .map(|d| ((d.api_version.clone(), d.kind.clone()), d))
            .collect()
    })
}

pub fn lookup(api_version: &str, kind: &str) -> Option<&'static Deprecation> {
    table().get(&(api_version.trim().to_string(), kind.trim().to_string()))
}
