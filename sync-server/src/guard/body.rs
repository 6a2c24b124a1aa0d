//! Reading a JSON request body within bounds: at most `MAX_BODY_BYTES` on the wire, and at
//! most `MAX_BODY_BYTES` once a gzip or zstd body is inflated — the inflating stops at the
//! bound, so a small body that would inflate to gigabytes costs a few megabytes, and zstd's
//! window is capped so a frame cannot ask for a large buffer. A body that does not fit the
//! request's shape is refused naming where and what kind of fault, never the value sent.

use std::io::Read;

use axum::extract::FromRequest;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use pocketbook_protocol::limits::MAX_BODY_BYTES;
use pocketbook_protocol::ErrorCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest zstd window a request may use (2^23 = 8 MiB); honest clients compressing at most
/// `MAX_BODY_BYTES` never need more.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// A JSON body, read within the bounds above; every refusal is `{code, message}`.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let json = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
            });
        if !json {
            return Err(invalid_json(
                "expected a body with Content-Type: application/json",
            ));
        }
        let encoding = Encoding::of(parts.headers.get(CONTENT_ENCODING))?;
        let raw =
            http_body_util::BodyExt::collect(http_body_util::Limited::new(body, MAX_BODY_BYTES))
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        ApiError::TooLarge
                    } else {
                        invalid_json("the body could not be read")
                    }
                })?
                .to_bytes();
        let plain = inflate(encoding, &raw)?;
        decode(&plain).map(Body)
    }
}

/// The encodings a request body may arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Not compressed.
    Identity,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

impl Encoding {
    /// The encoding a `Content-Encoding` header names (`415` for any other).
    pub fn of(header: Option<&axum::http::HeaderValue>) -> Result<Encoding, ApiError> {
        match header.map(axum::http::HeaderValue::as_bytes) {
            None | Some(b"identity") => Ok(Encoding::Identity),
            Some(b"gzip") => Ok(Encoding::Gzip),
            Some(b"zstd") => Ok(Encoding::Zstd),
            Some(_) => Err(ApiError::UnsupportedMediaType),
        }
    }
}

/// The body inflated, refused as too large as soon as it passes `MAX_BODY_BYTES`.
pub fn inflate(encoding: Encoding, raw: &[u8]) -> Result<Vec<u8>, ApiError> {
    let unreadable = || ApiError::BadRequest {
        code: ErrorCode::InvalidRequest,
        message: "the compressed body could not be decoded".into(),
    };
    let mut out = Vec::new();
    let limit = u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX) + 1;
    match encoding {
        Encoding::Identity => return Ok(raw.to_vec()),
        Encoding::Gzip => {
            flate2::read::GzDecoder::new(raw)
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|_| unreadable())?;
        }
        Encoding::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::new(raw).map_err(|_| unreadable())?;
            decoder
                .window_log_max(ZSTD_WINDOW_LOG_MAX)
                .map_err(|_| unreadable())?;
            decoder
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|_| unreadable())?;
        }
    }
    if out.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge);
    }
    Ok(out)
}

/// Decodes JSON, answering a fault with where it is and what kind it is, never the value.
/// Every request body is a JSON object: serde would also read a struct from an array of its
/// fields in order, which the OpenAPI document does not allow (Schemathesis found `[]`
/// accepted as a pull).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(invalid_json("the body is not a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = render_path(e.path());
        let kind = fault(e.inner());
        invalid_json(&format!(
            "the body does not fit this request at {path}: {kind}"
        ))
    })?;
    de.end()
        .map_err(|_| invalid_json("the body has more after its JSON value"))?;
    Ok(value)
}

fn invalid_json(message: &str) -> ApiError {
    ApiError::BadRequest {
        code: ErrorCode::InvalidJson,
        message: message.to_string(),
    }
}

/// The kind of fault in words of our own (serde's own text can quote the value sent).
fn fault(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax => "not valid JSON".into(),
        Category::Eof => "the JSON ends too early".into(),
        Category::Io => "the body could not be read".into(),
        Category::Data => {
            let text = e.to_string();
            if let Some(rest) = text.strip_prefix("missing field `") {
                // The name of a field the request's type requires: ours, not the sender's.
                let field = rest.split('`').next().unwrap_or_default();
                if safe_name(field) {
                    return format!("the required field `{field}` is missing");
                }
                return "a required field is missing".into();
            }
            let kind = [
                ("invalid type", "a value of the wrong type"),
                ("invalid value", "a value out of its allowed form"),
                ("invalid length", "the wrong number of elements"),
                (
                    "unknown variant",
                    "a value that is not one of the known choices",
                ),
                ("unknown field", "a field this request does not take"),
                ("duplicate field", "a field given twice"),
            ]
            .iter()
            .find(|(prefix, _)| text.starts_with(prefix))
            .map_or("an invalid value", |(_, kind)| kind);
            kind.into()
        }
    }
}

/// A path like `mutations[3].version.hlc`; a map key that is not a plain lower-case name
/// (which could be something the sender made up, like a name) is shown as `<key>`.
fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(if safe_name(key) { key } else { "<key>" });
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    if out.is_empty() {
        "the top level".into()
    } else {
        format!("`{out}`")
    }
}

/// A lower-case snake_case name, as every field of the wire types is.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
    }

    fn message(body: &str) -> String {
        match decode::<Outer>(body.as_bytes()) {
            Err(ApiError::BadRequest { message, .. }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_fault_names_the_path_and_kind_but_never_the_value() {
        let m = message(r#"{"items": [{"count": 1}, {"count": "Jessica Smith"}]}"#);
        assert!(m.contains("`items[1].count`"), "{m}");
        assert!(m.contains("wrong type"), "{m}");
        assert!(!m.contains("Jessica"), "{m}");
        let m = message(r#"{"items": [{}]}"#);
        assert!(m.contains("`count` is missing"), "{m}");
        let m = message(r#"{"items": [{"count": 1}]} trailing"#);
        assert!(!m.contains("trailing"), "{m}");
        let m = message(r#"{"items": "#);
        assert!(m.contains("ends too early"), "{m}");
    }

    #[test]
    fn a_body_is_an_object_never_an_array_of_its_fields() {
        // Schemathesis: `[]` was read as a pull with every field at its default.
        #[derive(Debug, serde::Deserialize)]
        struct AllDefault {
            #[serde(default)]
            _limit: Option<u32>,
        }
        for body in ["[]", " [ ] ", "[null]", "\"text\"", "7", ""] {
            assert!(
                matches!(
                    decode::<AllDefault>(body.as_bytes()),
                    Err(ApiError::BadRequest { .. })
                ),
                "{body:?} was taken"
            );
        }
        assert!(decode::<AllDefault>(b" \r\n{}").is_ok());
        assert!(message("[[1]]").contains("not a JSON object"));
    }

    #[test]
    fn a_bomb_stops_inflating_at_the_bound() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        let packed = gz.finish().unwrap();
        assert!(matches!(
            inflate(Encoding::Gzip, &packed),
            Err(ApiError::TooLarge)
        ));
        let packed = zstd::encode_all(&vec![0u8; 64 << 20][..], 3).unwrap();
        assert!(matches!(
            inflate(Encoding::Zstd, &packed),
            Err(ApiError::TooLarge)
        ));
        assert_eq!(inflate(Encoding::Gzip, b"nope").ok(), None);
    }
}
