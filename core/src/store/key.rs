//! The key a store is opened with. Raw 32-byte keys skip SQLCipher's KDF; the bytes are wiped
//! from memory when the key is dropped.

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// How a store is protected.
pub enum StoreKey {
    /// A random 32-byte key held by the platform keystore.
    Raw(Zeroizing<[u8; 32]>),
    /// No encryption. Exists only for tests, behind the `insecure-plaintext` feature.
    #[cfg(feature = "insecure-plaintext")]
    Plaintext,
}

impl StoreKey {
    /// A raw key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| Error::KeyRequired)?;
        Ok(StoreKey::Raw(Zeroizing::new(array)))
    }

    /// A raw key from 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| Error::KeyRequired)?);
        Self::from_bytes(&bytes)
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::fill(&mut *bytes);
        StoreKey::Raw(bytes)
    }

    /// The key as 64 hex digits, for writing to a key file.
    pub fn to_hex(&self) -> Option<Zeroizing<String>> {
        match self {
            StoreKey::Raw(bytes) => Some(Zeroizing::new(hex::encode(bytes.as_slice()))),
            #[cfg(feature = "insecure-plaintext")]
            StoreKey::Plaintext => None,
        }
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}
