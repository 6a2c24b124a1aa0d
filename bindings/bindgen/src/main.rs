//! The workspace's `uniffi-bindgen`: generates Kotlin, Swift and Python from the built
//! library (`generate --library target/<profile>/libpocketbook_ffi.so`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
