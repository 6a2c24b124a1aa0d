//! Fuzz target `merge_rules`: see `pocketbook_fuzz::merge_rules` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pocketbook_fuzz::merge_rules(data));
