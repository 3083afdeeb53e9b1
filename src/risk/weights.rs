//! The reasons' weights and texts: `rules/risk.yaml`, overridden by the
//! config's `risk: {weights: {reason-id: N}}`.

use crate::manifest::yaml;
use anyhow::{bail, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

static TABLE_YAML: &str = include_str!("../../rules/risk.yaml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonDef {
    pub weight: u8,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    reasons: BTreeMap<String, ReasonDef>,
}

/// The embedded table, parsed once.
pub fn table() -> &'static BTreeMap<String, ReasonDef> {
    static TABLE: OnceLock<BTreeMap<String, ReasonDef>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let t: Table = yaml::embedded("rules/risk.yaml", TABLE_YAML);
        t.reasons
    })
}

/// The config's `risk:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskOptions {
    /// Reason id → weight (0 leaves the reason out, 1–5 otherwise).
    #[serde(default)]
    pub weights: BTreeMap<String, u8>,
}

impl RiskOptions {
    /// Reads and checks the section: every id known, every weight 0–5.
    pub fn from_config(v: Option<&serde_json::Value>) -> Result<Self> {
        let opts: RiskOptions = match v {
            Some(v) if !v.is_null() => serde_json::from_value(v.clone())?,
            _ => RiskOptions::default(),
        };
        let table = table();
        for (id, w) in &opts.weights {
            if !table.contains_key(id) {
                bail!(
                    "unknown risk reason '{id}' (known: {})",
                    table.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            if *w > 5 {
                bail!("the weight of '{id}' must be 0 to 5");
            }
        }
        Ok(opts)
    }
}

/// The weights a run uses.
#[derive(Debug, Clone, Default)]
pub struct Weights {
    overrides: BTreeMap<String, u8>,
}

impl Weights {
    pub fn new(opts: &RiskOptions) -> Self {
        Weights {
            overrides: opts.weights.clone(),
        }
    }

    /// The weight and text of a reason id (an unknown id weighs 1).
    pub fn get(&self, id: &str) -> (u8, &'static str) {
        let def = table().get(id);
        let text = def.map_or("changed", |d| d.reason.as_str());
        let weight = self
            .overrides
            .get(id)
            .copied()
            .or(def.map(|d| d.weight))
            .unwrap_or(1);
        (weight.min(5), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_with_weights_in_range() {
        let t = table();
        assert!(t.len() > 30);
        assert!(t.values().all(|d| (1..=5).contains(&d.weight)));
    }

    #[test]
    fn overrides_are_checked() {
        let v = serde_json::json!({"weights": {"replicas-cut": 2}});
        let o = RiskOptions::from_config(Some(&v)).unwrap();
        assert_eq!(Weights::new(&o).get("replicas-cut").0, 2);
        let bad = serde_json::json!({"weights": {"nope": 2}});
        assert!(RiskOptions::from_config(Some(&bad)).is_err());
        let big = serde_json::json!({"weights": {"replicas-cut": 9}});
        assert!(RiskOptions::from_config(Some(&big)).is_err());
        let other = serde_json::json!({"weight": {}});
        assert!(RiskOptions::from_config(Some(&other)).is_err());
    }
}
