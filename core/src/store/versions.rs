//! The stored form of a record's field versions. Most fields of a record share the version of
//! the mutation that created it, so the common version is written once as `"*"` and only the
//! fields that differ are listed; this keeps a record row about half the size it would be.

use std::collections::BTreeMap;

use pocketbook_protocol::merge::DELETED_FIELD;
use pocketbook_protocol::Version;

use crate::error::{Error, Result};

const DEFAULT_KEY: &str = "*";
/// A version that is always written explicitly (it exists only on tombstones).
const EXPLICIT: &str = DELETED_FIELD;

/// Writes `versions` compactly.
pub(crate) fn encode(versions: &BTreeMap<String, Version>) -> Result<String> {
    let mut counts: BTreeMap<Version, usize> = BTreeMap::new();
    for (field, v) in versions {
        if field != EXPLICIT {
            *counts.entry(*v).or_default() += 1;
        }
    }
    let common = counts
        .into_iter()
        .max_by_key(|(v, n)| (*n, *v))
        .map(|(v, _)| v);
    let mut out: BTreeMap<&str, Version> = BTreeMap::new();
    if let Some(common) = common {
        out.insert(DEFAULT_KEY, common);
    }
    for (field, v) in versions {
        if Some(*v) != common || field == EXPLICIT {
            out.insert(field, *v);
        }
    }
    serde_json::to_string(&out).map_err(|_| Error::Corrupt {
        what: "field versions",
    })
}

/// Writes the versions of `fields` when every one has `version` (a new record's): what
/// [`encode`] makes of the map giving each that version, without building the map.
pub(crate) fn encode_all_at<'a>(
    fields: impl IntoIterator<Item = &'a str>,
    version: Version,
) -> Result<String> {
    let out: BTreeMap<&str, Version> = fields
        .into_iter()
        .map(|field| {
            (
                if field == EXPLICIT {
                    EXPLICIT
                } else {
                    DEFAULT_KEY
                },
                version,
            )
        })
        .collect();
    serde_json::to_string(&out).map_err(|_| Error::Corrupt {
        what: "field versions",
    })
}

/// Writes the versions of a record as a server sent them: the common version (every field not
/// listed has it) and those listed. Stored as sent, they read back as [`encode`]'s form of the
/// same versions does; from a server that lists every version, they are compacted.
pub(crate) fn encode_sent(
    common: Option<Version>,
    listed: &BTreeMap<String, Version>,
) -> Result<String> {
    let Some(common) = common else {
        return encode(listed);
    };
    let mut out: BTreeMap<&str, Version> = listed.iter().map(|(f, v)| (f.as_str(), *v)).collect();
    out.insert(DEFAULT_KEY, common);
    serde_json::to_string(&out).map_err(|_| Error::Corrupt {
        what: "field versions",
    })
}

/// Reads the stored form back, giving every one of `fields` not listed the common version.
pub(crate) fn decode<'a>(
    text: &str,
    fields: impl IntoIterator<Item = &'a String>,
) -> Result<BTreeMap<String, Version>> {
    let mut map: BTreeMap<String, Version> =
        serde_json::from_str(text).map_err(|_| Error::Corrupt {
            what: "field versions",
        })?;
    if let Some(common) = map.remove(DEFAULT_KEY) {
        for field in fields {
            map.entry(field.clone()).or_insert(common);
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pocketbook_protocol::Hlc;
    use uuid::Uuid;

    fn v(millis: u64) -> Version {
        Version {
            hlc: Hlc { millis, counter: 0 },
            node: Uuid::from_u128(7),
        }
    }

    #[test]
    fn round_trips_with_the_common_version_written_once() {
        let fields: Vec<String> = ["a", "b", "c", "deleted"].map(String::from).to_vec();
        let versions: BTreeMap<String, Version> = [
            ("a".to_string(), v(1)),
            ("b".to_string(), v(1)),
            ("c".to_string(), v(2)),
            ("deleted".to_string(), v(1)),
        ]
        .into();
        let text = encode(&versions).unwrap();
        assert_eq!(text.matches(&v(1).to_string()).count(), 2, "{text}");
        assert_eq!(decode(&text, &fields[..3]).unwrap(), versions);
        assert_eq!(
            decode(&encode(&BTreeMap::new()).unwrap(), &fields).unwrap(),
            BTreeMap::new()
        );
    }

    #[test]
    fn versions_as_sent_read_back_as_every_field_s_own() {
        let fields: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let every: BTreeMap<String, Version> = [
            ("a".to_string(), v(1)),
            ("b".to_string(), v(1)),
            ("c".to_string(), v(2)),
            ("deleted".to_string(), v(3)),
        ]
        .into();
        let listed: BTreeMap<String, Version> =
            [("c".to_string(), v(2)), ("deleted".to_string(), v(3))].into();
        let sent = encode_sent(Some(v(1)), &listed).unwrap();
        assert_eq!(decode(&sent, &fields).unwrap(), every);
        // From a server that lists every version: compacted as a local write's are.
        assert_eq!(encode_sent(None, &every).unwrap(), encode(&every).unwrap());
    }

    #[test]
    fn every_field_at_one_version_is_written_as_encode_writes_the_map() {
        for names in [
            &["a", "b", "c"][..],
            &["a", "deleted", "b"],
            &["deleted"],
            &[],
        ] {
            let every: BTreeMap<String, Version> =
                names.iter().map(|f| (f.to_string(), v(4))).collect();
            let text = encode_all_at(names.iter().copied(), v(4)).unwrap();
            assert_eq!(text, encode(&every).unwrap(), "{names:?}");
            let fields: Vec<String> = every.keys().cloned().collect();
            assert_eq!(decode(&text, &fields).unwrap(), every, "{names:?}");
        }
    }
}
