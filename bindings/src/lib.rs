//! The uniffi layer that gives Kotlin and Swift apps the Pocketbook core. It arrives with the
//! bindings issue (see DESIGN §7); until then this crate only reserves its place in the
//! workspace and exports nothing.
