//! A new record's fields written as the store keeps them — one JSON object without the
//! record's id — straight from the record, with the names of its fields: one pass, where
//! building a `serde_json` value of the record and then writing it made every member twice
//! (about 7 % of a `record_visit`'s CPU, `BENCHMARKS.md`). Does no IO.
//!
//! The members are in the order of their names and a name given twice keeps its last value,
//! as writing a map does; a member's own value is written as serde writes it (a nested
//! struct's members in their declared order). Every read of the store parses the text, so the
//! order inside a value is not something any reader sees.

use std::ops::Range;

use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

/// The record's own key, which the store keeps as the row's id and not in its data.
const ID: &str = "id";

/// A record's fields as stored text, and the names of the fields it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldsText {
    /// The JSON object, without the id.
    pub text: String,
    /// The names of its members, in the order they are written.
    pub names: Vec<String>,
}

/// Writes `record` (something serde writes as a map or a struct) as the store keeps it.
pub(crate) fn fields_text<T: Serialize + ?Sized>(
    record: &T,
) -> Result<FieldsText, serde_json::Error> {
    let mut members = Members::default();
    record.serialize(&mut members)?;
    members.finish()
}

/// The members written so far: each value's text in one buffer, with its name.
#[derive(Default)]
struct Members {
    values: Vec<u8>,
    written: Vec<(String, Range<usize>)>,
    /// The name of the member whose value comes next (a map gives them apart).
    pending: Option<String>,
}

impl Members {
    fn member<V: Serialize + ?Sized>(
        &mut self,
        name: String,
        value: &V,
    ) -> Result<(), serde_json::Error> {
        let start = self.values.len();
        serde_json::to_writer(&mut self.values, value)?;
        if name != ID {
            self.written.push((name, start..self.values.len()));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<FieldsText, serde_json::Error> {
        // Stable: of two members with one name the later stays later, and is the one kept.
        self.written.sort_by(|a, b| a.0.cmp(&b.0));
        let mut text = Vec::with_capacity(self.values.len() + 16 * self.written.len() + 2);
        let mut names = Vec::with_capacity(self.written.len());
        text.push(b'{');
        let mut members = self.written.into_iter().peekable();
        while let Some((name, range)) = members.next() {
            if members.peek().is_some_and(|(next, _)| *next == name) {
                continue;
            }
            if !names.is_empty() {
                text.push(b',');
            }
            // A name is a string: serde_json writes it with its escapes, as a map's key.
            serde_json::to_writer(&mut text, &name)?;
            text.push(b':');
            text.extend_from_slice(&self.values[range]);
            names.push(name);
        }
        text.push(b'}');
        // Every piece is serde_json's own output or ASCII punctuation: this does not fail.
        let text = String::from_utf8(text)
            .map_err(|_| ser::Error::custom("a record's text must be UTF-8"))?;
        Ok(FieldsText { text, names })
    }
}

fn not_an_object() -> serde_json::Error {
    ser::Error::custom("a record must be written as a JSON object")
}

/// The record itself: only a map or a struct is a record.
impl Serializer for &mut Members {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<(), serde_json::Error>;
    type SerializeTuple = Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = Impossible<(), serde_json::Error>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), serde_json::Error>;

    fn serialize_map(self, _len: Option<usize>) -> Result<Self, Self::Error> {
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, Self::Error> {
        Ok(self)
    }

    fn serialize_bool(self, _v: bool) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_i8(self, _v: i8) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_i16(self, _v: i16) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_i32(self, _v: i32) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_i64(self, _v: i64) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_u8(self, _v: u8) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_u16(self, _v: u16) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_u32(self, _v: u32) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_u64(self, _v: u64) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_char(self, _v: char) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_str(self, _v: &str) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_none(self) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<(), Self::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &V,
    ) -> Result<(), Self::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &V,
    ) -> Result<(), Self::Error> {
        Err(not_an_object())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(not_an_object())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(not_an_object())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(not_an_object())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(not_an_object())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(not_an_object())
    }
}

impl SerializeStruct for &mut Members {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), Self::Error> {
        self.member(key.to_string(), value)
    }
    fn end(self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl SerializeMap for &mut Members {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Self::Error> {
        // A key must be a string, as a JSON object's: read through serde_json's own rule.
        let name = match serde_json::to_value(key)? {
            serde_json::Value::String(name) => name,
            _ => return Err(ser::Error::custom("a record's field name must be a string")),
        };
        self.pending = Some(name);
        Ok(())
    }
    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Self::Error> {
        let name = self
            .pending
            .take()
            .ok_or_else(|| ser::Error::custom("a value without its field name"))?;
        self.member(name, value)
    }
    fn end(self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "fields_text_tests.rs"]
mod tests;
