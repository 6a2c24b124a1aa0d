//! Fuzz target `pull_page`: see `pocketbook_fuzz::pull_page` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pocketbook_fuzz::pull_page(data));
