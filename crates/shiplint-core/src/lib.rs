//! shiplint's core: what packs produce and reporters render (`finding`:
//! `Finding`, `Severity`, `Rule`), the one diff model (`diff`) and the text
//! helpers every layer shares (`text`). It sits on `shiplint-yaml` only;
//! Cargo forbids it to use the packs, the scan or the reporters above it.

pub mod diff;
pub mod finding;
pub mod text;

// The layer below, under the paths the core's modules name it by.
pub use shiplint_yaml::{manifest, source};
