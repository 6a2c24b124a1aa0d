//! The store file on disk is encrypted: no SQLite header, no record text in clear (WAL
//! included), a wrong key is a clear error, and files are owner-only.

use pocketbook_core::{Error, OpenConfig, Pocketbook, StoreKey};
use pocketbook_tests::{visit_draft, Fixture, SECRET_NARRATIVE};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn files_of(fixture: &Fixture) -> Vec<(String, Vec<u8>)> {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut name = fixture.path.as_os_str().to_owned();
            name.push(suffix);
            std::fs::read(&name)
                .ok()
                .map(|bytes| (name.to_string_lossy().into_owned(), bytes))
        })
        .collect()
}

#[test]
fn the_database_and_its_wal_hold_no_plaintext() {
    let fixture = Fixture::new();
    let person = fixture.young_person();
    fixture.book.record_visit(visit_draft(person, 1)).unwrap();
    let files = files_of(&fixture);
    let wal = files
        .iter()
        .find(|(n, _)| n.ends_with("-wal"))
        .expect("a WAL file exists");
    assert!(!wal.1.is_empty(), "the WAL holds the uncheckpointed visit");
    for (name, bytes) in &files {
        assert!(
            !bytes.starts_with(b"SQLite format 3"),
            "{name} has a plaintext header"
        );
        for needle in [
            SECRET_NARRATIVE,
            "Amira",
            "Testcase",
            "welfare_check",
            "CREATE TABLE",
        ] {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{name} contains {needle:?} in clear"
            );
        }
    }
    // The same text is really there, decrypted, through the API.
    assert_eq!(
        fixture.book.visits(&Default::default()).unwrap()[0].narrative,
        SECRET_NARRATIVE
    );
}

#[test]
fn a_wrong_key_is_a_clear_error_and_leaves_the_file_alone() {
    let fixture = Fixture::new();
    fixture.young_person();
    let before = std::fs::read(&fixture.path).unwrap();
    let err = Pocketbook::open(OpenConfig {
        db_path: fixture.path.clone(),
        key: StoreKey::generate(),
        device_name: "thief".into(),
    })
    .err()
    .expect("wrong key is refused");
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    assert_eq!(std::fs::read(&fixture.path).unwrap(), before);
    // The right key still opens it.
    assert_eq!(fixture.book.find_young_people("").unwrap().len(), 1);
}

#[test]
fn a_plaintext_sqlite_file_is_not_opened_as_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let err = Pocketbook::open(OpenConfig {
        db_path: path,
        key: pocketbook_tests::key(),
        device_name: "d".into(),
    })
    .err()
    .expect("plaintext file refused");
    assert!(matches!(err, Error::WrongKey), "{err:?}");
}

#[test]
fn keys_must_be_exactly_32_bytes() {
    assert!(matches!(
        StoreKey::from_hex("abcd"),
        Err(Error::KeyRequired)
    ));
    assert!(matches!(
        StoreKey::from_hex(&"zz".repeat(32)),
        Err(Error::KeyRequired)
    ));
    assert!(StoreKey::from_bytes(&[7u8; 32]).is_ok());
    assert!(StoreKey::from_bytes(&[7u8; 33]).is_err());
}

#[cfg(unix)]
#[test]
fn store_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let fixture = Fixture::new();
    fixture.young_person();
    for (name, _) in files_of(&fixture) {
        let mode = std::fs::metadata(&name).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}

#[test]
fn wipe_removes_the_database_and_its_wal_and_shm_files() {
    let fixture = Fixture::new();
    fixture.young_person();
    let dir = fixture.dir.path().to_path_buf();
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 2);
    fixture.book.wipe().unwrap();
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "files left after wipe: {left:?}");
}
