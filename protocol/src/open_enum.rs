//! Wire enumerations a newer peer may extend. [`open_enum!`](crate::open_enum) declares an enum
//! whose known values have fixed wire names and whose every other value decodes to
//! `Unknown(String)`, kept as sent, instead of failing: an older device reads a page from a newer
//! server, and an older server reads a push from a newer app, without losing the rest.

/// What every [`open_enum!`](crate::open_enum) enumeration offers, for code generic over them
/// (the terminal shell reads any of them from a name).
pub trait OpenEnum: Sized + Clone + 'static {
    /// Every value this build knows, in declaration order.
    fn known() -> &'static [Self];
    /// The value's wire name.
    fn wire_name(&self) -> &str;
    /// The value a wire name stands for; a name this build does not know is `Unknown`.
    fn from_wire_name(name: &str) -> Self;
    /// Whether this build knows the value.
    fn is_known_value(&self) -> bool;
}

/// Declares an open wire enumeration: each variant with its wire name, plus
/// `Unknown(String)` for any value this build does not know. Generates `as_str`, `from_wire`,
/// `is_known`, `KNOWN` (every known value in declaration order), `Display`, an infallible
/// `FromStr`, and serde as a plain string.
///
/// ```
/// pocketbook_protocol::open_enum! {
///     /// A colour.
///     pub enum Colour {
///         /// Red.
///         Red = "red",
///         /// Dark blue.
///         DarkBlue = "dark_blue",
///     }
/// }
/// assert_eq!(Colour::from_wire("dark_blue"), Colour::DarkBlue);
/// assert_eq!(Colour::from_wire("green"), Colour::Unknown("green".into()));
/// assert_eq!(Colour::Unknown("green".into()).as_str(), "green");
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value sent by a newer peer that this build does not know, kept as sent.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Every value this build knows, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value's wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown(other) => other.as_str(),
                }
            }

            /// The value a wire name stands for; a name this build does not know is `Unknown`.
            pub fn from_wire(name: &str) -> Self {
                match name {
                    $($wire => $name::$variant,)+
                    other => $name::Unknown(other.to_string()),
                }
            }

            /// Whether this build knows the value (it is not `Unknown`).
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl $crate::open_enum::OpenEnum for $name {
            fn known() -> &'static [Self] {
                $name::KNOWN
            }
            fn wire_name(&self) -> &str {
                self.as_str()
            }
            fn from_wire_name(name: &str) -> Self {
                $name::from_wire(name)
            }
            fn is_known_value(&self) -> bool {
                self.is_known()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(name: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok($name::from_wire(name))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct Visit;
                impl ::serde::de::Visitor<'_> for Visit {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " name"))
                    }
                    fn visit_str<E: ::serde::de::Error>(
                        self,
                        name: &str,
                    ) -> ::std::result::Result<$name, E> {
                        Ok($name::from_wire(name))
                    }
                }
                deserializer.deserialize_str(Visit)
            }
        }
    };
}

/// Describes an open enumeration in the OpenAPI document exactly as it is read: any string —
/// one of its known names (listed), or a name a newer peer added, read as unknown.
#[cfg(feature = "openapi")]
macro_rules! open_enum_schema {
    ($($name:ident),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
                AnyOfBuilder::new()
                    .item(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(
                                $name::KNOWN.iter().map(|v| v.as_str().to_string()),
                            )),
                    )
                    .item(ObjectBuilder::new().schema_type(Type::String).description(Some(
                        "a name a newer peer added: read as unknown, never an error",
                    )))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    )+};
}

#[cfg(feature = "openapi")]
pub(crate) use open_enum_schema;

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// A test enumeration.
        pub enum Fruit {
            /// An apple.
            Apple = "apple",
            /// A blood orange.
            BloodOrange = "blood_orange",
        }
    }

    #[test]
    fn known_names_round_trip_and_unknown_ones_are_kept_as_sent() {
        for fruit in Fruit::KNOWN {
            let wire = serde_json::to_string(fruit).unwrap();
            assert_eq!(wire, format!("\"{}\"", fruit.as_str()));
            assert_eq!(&serde_json::from_str::<Fruit>(&wire).unwrap(), fruit);
            assert!(fruit.is_known());
        }
        let later: Fruit = serde_json::from_str("\"quince\"").unwrap();
        assert_eq!(later, Fruit::Unknown("quince".into()));
        assert!(!later.is_known());
        assert_eq!(serde_json::to_string(&later).unwrap(), "\"quince\"");
        assert_eq!("blood_orange".parse::<Fruit>(), Ok(Fruit::BloodOrange));
    }

    #[test]
    fn a_value_that_is_not_a_string_is_still_refused() {
        assert!(serde_json::from_str::<Fruit>("3").is_err());
        assert!(serde_json::from_str::<Fruit>("null").is_err());
    }
}
