//! A pull's pages decompressed and decoded on a thread of their own, one page ahead of the
//! thread that applies them, so that a first sync's decoding (a quarter of the applying
//! thread's work) overlaps its writing. One thread for the whole pull: the memory pages are
//! decoded in stays in one allocator arena, reused page after page.

use std::sync::mpsc;
use std::thread;

use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::http::{AnswerBody, CallError};
use crate::error::Error;

/// A page to decode and where its decoding goes.
type Job<T> = (AnswerBody, oneshot::Sender<Result<T, CallError>>);

/// The decoding thread of one pull. It ends when this is dropped.
pub(crate) struct PageDecoder<T> {
    jobs: mpsc::Sender<Job<T>>,
}

impl<T: DeserializeOwned + Send + 'static> PageDecoder<T> {
    /// Starts the thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job<T>>();
        thread::Builder::new()
            .name("pocketbook-page-decoder".into())
            .spawn(move || {
                for (body, answer) in queue {
                    // The pull may have ended meanwhile: a decoded page nobody waits for goes.
                    let _ = answer.send(body.decode());
                }
            })?;
        Ok(Self { jobs })
    }

    /// Decodes `body` on the thread; waits without blocking the runtime.
    pub(crate) async fn decode(&self, body: AnswerBody) -> Result<T, CallError> {
        let (answer, decoded) = oneshot::channel();
        let gone = || CallError::Other(interrupted());
        self.jobs.send((body, answer)).map_err(|_| gone())?;
        decoded.await.map_err(|_| gone())?
    }
}

/// What a pull whose fetching or decoding went away before it answered fails with.
pub(crate) fn interrupted() -> Error {
    Error::Network {
        reason: "the pull was interrupted".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page that says which thread decoded it.
    struct DecodedOn(String);

    impl<'de> serde::Deserialize<'de> for DecodedOn {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde_json::Value::deserialize(d)?;
            Ok(DecodedOn(
                thread::current().name().unwrap_or_default().to_string(),
            ))
        }
    }

    #[tokio::test]
    async fn pages_are_decoded_one_after_another_on_the_decoding_thread() {
        let decoder = PageDecoder::<serde_json::Value>::start().unwrap();
        let plain = decoder
            .decode(AnswerBody::uncompressed(br#"{"page": 1}"#))
            .await
            .unwrap();
        let packed = decoder
            .decode(AnswerBody::zstd(br#"{"page": 2}"#))
            .await
            .unwrap();
        assert_eq!(
            (plain["page"].as_u64(), packed["page"].as_u64()),
            (Some(1), Some(2))
        );

        let on = PageDecoder::<DecodedOn>::start().unwrap();
        let DecodedOn(name) = on.decode(AnswerBody::uncompressed(b"{}")).await.unwrap();
        assert_eq!(name, "pocketbook-page-decoder");
        assert_ne!(thread::current().name(), Some("pocketbook-page-decoder"));
    }

    #[tokio::test]
    async fn a_page_that_does_not_decode_is_a_network_error_and_the_next_still_decodes() {
        let decoder = PageDecoder::<serde_json::Value>::start().unwrap();
        for bad in [
            AnswerBody::uncompressed(br#"{"page": "#),
            AnswerBody::zstd(b"not json"),
        ] {
            assert!(matches!(
                decoder.decode(bad).await,
                Err(CallError::Other(Error::Network { .. }))
            ));
        }
        let good = decoder.decode(AnswerBody::uncompressed(b"[1]")).await;
        assert_eq!(good.unwrap(), serde_json::json!([1]));
    }
}
