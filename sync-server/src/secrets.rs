//! The secrets a server hands out — device tokens and one-time enrolment codes — made from the
//! store's [`Sources`], and the SHA-256 form, the only one the server stores. Pure, but for
//! reading the sources.

use pocketbook_protocol::sources::{Sources, SystemSources};
use sha2::{Digest, Sha256};

/// The alphabet of enrolment codes: no look-alikes (no I, O, 0 or 1), 32 symbols.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// SHA-256 (hex) of a device token.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// SHA-256 (hex) of an enrolment code, read the way people type it: case, spaces and dashes
/// do not matter.
pub fn code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    secret_hash(&normal)
}

/// A new device token: 256 random bits from `sources`, as hex.
pub fn new_token(sources: &dyn Sources) -> String {
    let mut bytes = [0u8; 32];
    sources.fill_random(&mut bytes);
    hex::encode(bytes)
}

/// A new enrolment code from `sources`: 12 characters from an alphabet without look-alikes
/// (60 bits), grouped in fours.
pub fn new_code_from(sources: &dyn Sources) -> String {
    let mut bytes = [0u8; 12];
    sources.fill_random(&mut bytes);
    // 32 symbols divide 256 evenly, so taking each byte modulo 32 draws them uniformly.
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A new enrolment code from the operating system's random source.
pub fn new_code() -> String {
    new_code_from(&SystemSources)
}

#[cfg(test)]
mod tests {
    use pocketbook_protocol::sources::SeededSources;

    use super::*;

    #[test]
    fn codes_are_three_groups_of_four_from_the_alphabet_and_hash_as_typed() {
        let code = new_code();
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 3);
        assert!(groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| CODE_ALPHABET.contains(&b))));
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(code_hash(&typed), code_hash(&code));
    }

    #[test]
    fn a_seed_gives_the_same_token_and_code() {
        let start = chrono::DateTime::from_timestamp_millis(1_764_494_000_000).unwrap_or_default();
        let (a, b) = (SeededSources::new(3, start), SeededSources::new(3, start));
        assert_eq!(new_token(&a), new_token(&b));
        assert_eq!(new_code_from(&a), new_code_from(&b));
        assert_eq!(new_token(&a).len(), 64);
    }
}
