//! The bottom layer of shiplint: source files and spans (`source`), the
//! span-keeping YAML tree (`manifest::yaml`) and Kubernetes manifests read
//! from it (`manifest`). It uses no other shiplint crate — Cargo forbids a
//! crate cycle, so nothing here can reach up into the packs or reporters.

pub mod manifest;
pub mod source;
