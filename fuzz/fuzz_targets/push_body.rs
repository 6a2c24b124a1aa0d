//! Fuzz target `push_body`: see `pocketbook_fuzz::push_body` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pocketbook_fuzz::push_body(data));
