#![no_main]

#[path = "../common/mod.rs"]
// Each target uses one body of the shared module.
#[allow(dead_code)]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::secrets_scan(data));
