//! Integers on the wire, read the way the OpenAPI document (JSON Schema) defines them: a
//! number with no fractional part (`7` or `7.0`), from 0 to [`MAX_WIRE_INT`] (2^53 − 1, the
//! largest integer every JSON reader holds exactly). Anything else is refused when decoding,
//! so the document's `integer, minimum 0, maximum 2^53 − 1` says exactly what is accepted.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};

/// The largest integer a counter on the wire may hold: 2^53 − 1.
pub const MAX_WIRE_INT: u64 = (1 << 53) - 1;

/// Reads one wire integer no larger than `max`.
struct WireInt {
    max: u64,
}

impl WireInt {
    fn check<E: de::Error>(&self, v: u64) -> Result<u64, E> {
        if v <= self.max {
            Ok(v)
        } else {
            Err(E::custom(format_args!("an integer above {}", self.max)))
        }
    }
}

impl<'de> Visitor<'de> for WireInt {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an integer from 0 to {}", self.max)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        self.check(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v)
            .map_err(|_| E::custom("a negative integer"))
            .and_then(|v| self.check(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // Only a whole number within range; its decimal text is then exact.
        if v.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&v) {
            return Err(E::custom("a number that is not a whole number in range"));
        }
        format!("{v:.0}")
            .parse::<u64>()
            .map_err(E::custom)
            .and_then(|v| self.check(v))
    }
}

/// A counter (a sequence number, a cursor): 0 to [`MAX_WIRE_INT`].
pub fn counter<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(WireInt { max: MAX_WIRE_INT })
}

/// A position in a device's own sequence (a mutation's or an audit event's): 1 to
/// [`MAX_WIRE_INT`]. Zero is no position: a mutation numbered 0 would read as already taken.
pub fn sequence<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = counter(d)?;
    if v == 0 {
        return Err(de::Error::custom("a sequence number starts at 1"));
    }
    Ok(v)
}

/// An optional page size: 0 to `u32::MAX`.
pub fn optional_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("null or an integer from 0 to 4294967295")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            let v = d.deserialize_any(WireInt {
                max: u64::from(u32::MAX),
            })?;
            u32::try_from(v).map(Some).map_err(de::Error::custom)
        }
    }
    d.deserialize_option(Optional)
}

/// A map from name to counter (a pull's cursors).
pub fn counter_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, u64>, D::Error> {
    struct Counters;
    struct One;
    impl<'de> de::DeserializeSeed<'de> for One {
        type Value = u64;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
            counter(d)
        }
    }
    impl<'de> Visitor<'de> for Counters {
        type Value = BTreeMap<String, u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of counters")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value_seed(One)?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Counters)
}

#[cfg(feature = "openapi")]
fn counter_builder() -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(9_007_199_254_740_991_i64))
}

/// The OpenAPI schema of a counter.
#[cfg(feature = "openapi")]
pub fn counter_schema() -> utoipa::openapi::schema::Object {
    counter_builder().build()
}

/// The OpenAPI schema of a sequence number (from 1).
#[cfg(feature = "openapi")]
pub fn sequence_schema() -> utoipa::openapi::schema::Object {
    counter_builder().minimum(Some(1)).build()
}

/// The OpenAPI schema of an optional page size.
#[cfg(feature = "openapi")]
pub fn optional_u32_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(0))
        .maximum(Some(u32::MAX))
        .build()
}

/// The OpenAPI schema of an optional id: a UUID or `null` (as `oneOf`, which generators read
/// more faithfully than a list of types with a format).
#[cfg(feature = "openapi")]
pub fn optional_uuid_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// The OpenAPI schema of a map from name to counter.
#[cfg(feature = "openapi")]
pub fn counter_map_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(counter_builder()))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Probe {
        #[serde(deserialize_with = "counter")]
        n: u64,
        #[serde(default, deserialize_with = "optional_u32")]
        limit: Option<u32>,
        #[serde(default, deserialize_with = "counter_map")]
        cursors: BTreeMap<String, u64>,
    }

    fn read(json: &str) -> Result<Probe, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_numbers_in_range_are_read_however_they_are_written() {
        let p = read(r#"{"n": 7.0, "limit": 5.0, "cursors": {"a": 3, "b": 4.0}}"#).unwrap();
        assert_eq!((p.n, p.limit), (7, Some(5)));
        assert_eq!(
            p.cursors,
            BTreeMap::from([("a".into(), 3), ("b".into(), 4)])
        );
        assert_eq!(read(r#"{"n": 9007199254740991}"#).unwrap().n, MAX_WIRE_INT);
        assert_eq!(read(r#"{"n": 1e3, "limit": null}"#).unwrap().limit, None);
        // Large whole numbers written with a fraction are read exactly (Schemathesis found
        // `1907912497939657.0` refused before JSON floats were parsed correctly rounded).
        let big = read(r#"{"n": 1907912497939657.0, "cursors": {"a": 9007199254740991.0}}"#);
        let big = big.unwrap();
        assert_eq!(big.n, 1_907_912_497_939_657);
        assert_eq!(big.cursors["a"], MAX_WIRE_INT);
    }

    #[test]
    fn a_sequence_number_starts_at_one() {
        #[derive(serde::Deserialize)]
        struct Seq {
            #[serde(deserialize_with = "sequence")]
            #[allow(dead_code)]
            seq: u64,
        }
        assert!(serde_json::from_str::<Seq>(r#"{"seq": 0}"#).is_err());
        assert!(serde_json::from_str::<Seq>(r#"{"seq": 1.0}"#).is_ok());
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            r#"{"n": 7.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 9007199254740992}"#,
            r#"{"n": 1e300}"#,
            r#"{"n": "7"}"#,
            r#"{"n": 1, "limit": 4294967296}"#,
            r#"{"n": 1, "cursors": {"a": -2}}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
