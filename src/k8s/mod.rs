//! What shiplint knows about Kubernetes itself, below every pack: versions,
//! the embedded schemas of each version, and the deprecation table.

pub mod catalog;
pub mod deprecations;
pub mod schemas;

use anyhow::{bail, Result};

/// A Kubernetes minor version such as 1.30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    /// Accepts `1.30`, `1.30.2`, `v1.30.2`.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let major = parts.next().and_then(|p| p.parse().ok());
        let minor = parts.next().and_then(|p| p.parse().ok());
        let patch_ok = parts.next().is_none_or(|p| p.parse::<u32>().is_ok());
        match (major, minor) {
            (Some(major), Some(minor)) if patch_ok && parts.next().is_none() => {
                Ok(KubeVersion { major, minor })
            }
            _ => bail!("'{s}' is not a Kubernetes version (expected X.Y or X.Y.Z, e.g. 1.30)"),
        }
    }
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}
