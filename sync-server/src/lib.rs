//! The Pocketbook sync server (axum, with SQLite and PostgreSQL stores). It arrives with the
//! sync issue (see DESIGN §5–§6); until then this crate only reserves its place in the
//! workspace and exports nothing.
