//! Hybrid logical clock and record versions (DESIGN §5 "Clock"). Pure: the caller passes the
//! wall-clock reading in, so the rules are testable and the crate does no IO.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// Milliseconds since the Unix epoch of an instant, as clocks and the wire count them; an
/// instant before 1970 counts as 0.
pub fn unix_millis(at: chrono::DateTime<chrono::Utc>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap_or(0)
}

/// A hybrid logical clock reading: wall-clock milliseconds plus a counter that orders events
/// within one millisecond (or while the wall clock stands behind the logical one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch, never behind any reading seen before.
    pub millis: u64,
    /// Orders events that share `millis`.
    pub counter: u32,
}

/// The version of one field: a clock reading and the node that made it, compared as a tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// When the change was made.
    pub hlc: Hlc,
    /// The device id (or the server's id) that made the change; breaks ties.
    pub node: Uuid,
}

/// A clock reading a change arrived with is too far ahead to trust.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The received reading is more than the allowed drift ahead of this clock's wall time.
    #[error("clock reading is {ahead_ms} ms ahead of local time (limit {limit_ms} ms)")]
    TooFarAhead {
        /// How far ahead the reading was.
        ahead_ms: u64,
        /// The limit that was applied.
        limit_ms: u64,
    },
    /// The counter cannot advance any further within one millisecond.
    #[error("clock counter exhausted")]
    CounterOverflow,
}

/// A persisted hybrid logical clock for one node. The owner stores `last()` after every use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    node: Uuid,
    last: Hlc,
}

impl Clock {
    /// Resumes a clock for `node` from its last persisted reading.
    pub fn new(node: Uuid, last: Hlc) -> Self {
        Self { node, last }
    }

    /// The node this clock stamps versions for.
    pub fn node(&self) -> Uuid {
        self.node
    }

    /// The latest reading handed out or observed.
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// Stamps a local event at wall time `now_ms`: strictly after every earlier reading.
    pub fn tick(&mut self, now_ms: u64) -> Result<Version, ClockError> {
        let next = if now_ms > self.last.millis {
            Hlc {
                millis: now_ms,
                counter: 0,
            }
        } else {
            Hlc {
                millis: self.last.millis,
                counter: self
                    .last
                    .counter
                    .checked_add(1)
                    .ok_or(ClockError::CounterOverflow)?,
            }
        };
        self.last = next;
        Ok(Version {
            hlc: next,
            node: self.node,
        })
    }

    /// Takes in a reading the arbiter vouched for (a version pulled from the server), with no
    /// drift check, so later local events sort after it.
    pub fn merge(&mut self, seen: Hlc) {
        if seen > self.last {
            self.last = seen;
        }
    }

    /// Takes in a reading received from elsewhere so later local events sort after it.
    /// Refuses (and leaves the clock unchanged) a reading more than `max_drift_ms` ahead of
    /// `now_ms`.
    pub fn observe(&mut self, seen: Hlc, now_ms: u64, max_drift_ms: u64) -> Result<(), ClockError> {
        if seen.millis > now_ms.saturating_add(max_drift_ms) {
            return Err(ClockError::TooFarAhead {
                ahead_ms: seen.millis - now_ms,
                limit_ms: max_drift_ms,
            });
        }
        if seen > self.last {
            self.last = seen;
        }
        Ok(())
    }
}

/// A version string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed version string")]
pub struct VersionParseError;

/// The one spelling of a version on the wire, as a regular expression (the OpenAPI
/// document's pattern): `millis.counter.node`, fixed width.
pub const VERSION_PATTERN: &str = "^[0-9]{15}\\.[0-9a-f]{8}\\.[0-9a-f]{32}$";

impl fmt::Display for Version {
    /// Fixed-width so that the text form sorts like the tuple: `millis.counter.node`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:015}.{:08x}.{}",
            self.hlc.millis,
            self.hlc.counter,
            self.node.as_simple()
        )
    }
}

impl FromStr for Version {
    type Err = VersionParseError;

    /// Reads exactly the text `Display` writes — 15 decimal digits, 8 and 32 lowercase hex
    /// digits — and nothing looser, so the wire's one spelling of a version is also the only
    /// one the OpenAPI document admits ([`VERSION_PATTERN`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, '.');
        let (Some(millis), Some(counter), Some(node)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VersionParseError);
        };
        let digits =
            |t: &str, n: usize, ok: fn(&u8) -> bool| t.len() == n && t.bytes().all(|b| ok(&b));
        let lower_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        if !digits(millis, 15, u8::is_ascii_digit)
            || !digits(counter, 8, lower_hex)
            || !digits(node, 32, lower_hex)
        {
            return Err(VersionParseError);
        }
        Ok(Version {
            hlc: Hlc {
                millis: millis.parse().map_err(|_| VersionParseError)?,
                counter: u32::from_str_radix(counter, 16).map_err(|_| VersionParseError)?,
            },
            node: Uuid::parse_str(node).map_err(|_| VersionParseError)?,
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Version {
    /// On the wire a version is its fixed-width text form.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(VERSION_PATTERN))
            .description(Some(
                "millis.counter.node: a hybrid logical clock reading and the node that made it",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Version {}

/// The OpenAPI schema of a map from field name to version (`nullable`: or to `null`, a field
/// that had no version): an object whose every value is a version string.
#[cfg(feature = "openapi")]
pub fn version_map_schema(nullable: bool) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let value = ObjectBuilder::new()
        .schema_type(if nullable {
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::Type(Type::String)
        })
        .pattern(Some(VERSION_PATTERN));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(value))
        .build()
}

/// [`version_map_schema`] of an optional map (absent or `null`: none).
#[cfg(feature = "openapi")]
pub fn optional_field_versions_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    let mut schema = version_map_schema(false);
    schema.schema_type = SchemaType::from_iter([Type::Object, Type::Null]);
    schema
}

/// [`version_map_schema`] of a field's base versions (a field may have had none).
#[cfg(feature = "openapi")]
pub fn base_versions_schema() -> utoipa::openapi::schema::Object {
    version_map_schema(true)
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_version_is_read_only_in_the_spelling_it_is_written() {
        let v: Version = "001764494000000.0000000a.01900000000070008000000000000001"
            .parse()
            .unwrap();
        assert_eq!(v.to_string().parse::<Version>(), Ok(v));
        for loose in [
            "1764494000000.0000000a.01900000000070008000000000000001",
            "001764494000000.A.01900000000070008000000000000001",
            "001764494000000.0000000A.01900000000070008000000000000001",
            "001764494000000.0000000a.01900000-0000-7000-8000-000000000001",
            "+01764494000000.0000000a.01900000000070008000000000000001",
            "001764494000000.0000000a.01900000000070008000000000000001.",
        ] {
            assert_eq!(loose.parse::<Version>(), Err(VersionParseError), "{loose}");
        }
    }

    use super::*;
    use proptest::prelude::*;

    fn node(n: u8) -> Uuid {
        Uuid::from_bytes([n; 16])
    }

    #[test]
    fn tick_is_strictly_monotonic_when_the_wall_clock_goes_back() {
        let mut clock = Clock::new(node(1), Hlc::default());
        let a = clock.tick(1_000).unwrap();
        let b = clock.tick(900).unwrap();
        let c = clock.tick(900).unwrap();
        assert!(a < b && b < c);
        assert_eq!(
            b.hlc,
            Hlc {
                millis: 1_000,
                counter: 1
            }
        );
    }

    #[test]
    fn observe_moves_the_clock_past_a_remote_reading() {
        let mut clock = Clock::new(node(1), Hlc::default());
        let remote = Hlc {
            millis: 5_000,
            counter: 7,
        };
        clock.observe(remote, 4_000, 300_000).unwrap();
        let next = clock.tick(4_500).unwrap();
        assert!(next.hlc > remote);
    }

    #[test]
    fn observe_refuses_a_reading_beyond_the_drift_limit() {
        let mut clock = Clock::new(
            node(1),
            Hlc {
                millis: 10,
                counter: 0,
            },
        );
        let err = clock
            .observe(
                Hlc {
                    millis: 400_001,
                    counter: 0,
                },
                100_000,
                300_000,
            )
            .unwrap_err();
        assert_eq!(
            err,
            ClockError::TooFarAhead {
                ahead_ms: 300_001,
                limit_ms: 300_000
            }
        );
        assert_eq!(
            clock.last(),
            Hlc {
                millis: 10,
                counter: 0
            }
        );
    }

    #[test]
    fn counter_overflow_is_an_error_not_a_wrap() {
        let mut clock = Clock::new(
            node(1),
            Hlc {
                millis: 10,
                counter: u32::MAX,
            },
        );
        assert_eq!(clock.tick(5), Err(ClockError::CounterOverflow));
    }

    #[test]
    fn malformed_version_strings_are_refused() {
        for bad in [
            "",
            "1.2",
            "x.0.00",
            "1.zz.00000000000000000000000000000000",
            "1.0.nope",
        ] {
            assert_eq!(bad.parse::<Version>(), Err(VersionParseError), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn version_text_round_trips_and_sorts_like_the_tuple(
            a in (0u64..10u64.pow(15), any::<u32>(), any::<u8>()),
            b in (0u64..10u64.pow(15), any::<u32>(), any::<u8>()),
        ) {
            let va = Version { hlc: Hlc { millis: a.0, counter: a.1 }, node: node(a.2) };
            let vb = Version { hlc: Hlc { millis: b.0, counter: b.1 }, node: node(b.2) };
            prop_assert_eq!(va.to_string().parse::<Version>().unwrap(), va);
            prop_assert_eq!(va.cmp(&vb), va.to_string().cmp(&vb.to_string()));
            let json = serde_json::to_string(&va).unwrap();
            prop_assert_eq!(serde_json::from_str::<Version>(&json).unwrap(), va);
        }
    }
}
