//! `docs/AUTHORISATION.md` is the authorisation table rendered from `authz::decide`: this test
//! renders every cell and fails when the file differs (run with `UPDATE_AUTHZ_DOC=1` to rewrite
//! it).

use std::path::PathBuf;

#[test]
fn the_written_table_is_the_function() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/AUTHORISATION.md");
    let rendered = pocketbook_model::authz::render_doc();
    if std::env::var_os("UPDATE_AUTHZ_DOC").is_some() {
        std::fs::write(&path, &rendered).expect("write docs/AUTHORISATION.md");
        return;
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == rendered,
        "docs/AUTHORISATION.md differs from the authorisation table in model/src/authz; \
         regenerate it with: UPDATE_AUTHZ_DOC=1 cargo test -p pocketbook-model --test authz_doc"
    );
}
