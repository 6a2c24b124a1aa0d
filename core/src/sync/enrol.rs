//! Enrolment: exchanging an admin's one-time code for a device token, enrolling again after a
//! lapsed lease, and trusting a force's private certificate authority.

use pocketbook_protocol::wire::{EnrollRequest, EnrollResponse};

use super::flatten;
use super::http::Http;
use crate::error::{Error, Result};
use crate::store::{self, DeviceState};
use crate::{ChangeOrigin, Pocketbook, Session};

impl Pocketbook {
    /// Enrols this device with a server using a one-time code from an admin: stores the token
    /// in the encrypted store and installs the officer's reference data. Keeps the device id.
    /// Observers hear `DataChanged(Synced)`: the reference data came from the server.
    pub async fn enroll(&self, server_url: &str, code: &str) -> Result<Session> {
        self.enroll_quietly(server_url, code).await?;
        self.events.data_changed(ChangeOrigin::Synced);
        self.session()
    }

    /// Enrols again with the same server (after a lapsed lease or a lost token), keeping the
    /// device id, the outbox and the cursors. Observers hear `DataChanged(Reauthenticated)`
    /// (and only that): records a lapsed lease hid can be shown again.
    pub async fn reauthenticate(&self, code: &str) -> Result<Session> {
        let enrolled = self
            .store
            .read(store::enrolled)?
            .ok_or(Error::NotEnrolled)?;
        self.enroll_quietly(&enrolled.server_url, code).await?;
        self.events.data_changed(ChangeOrigin::Reauthenticated);
        self.session()
    }

    /// Enrolment itself, up to the commit of the token and reference data, telling no
    /// observer (its callers say why the data changed).
    async fn enroll_quietly(&self, server_url: &str, code: &str) -> Result<()> {
        let (device, trusted, held) = self.store.read(|c| {
            Ok((
                DeviceState::load(c)?,
                store::trusted(c)?,
                store::enrolled(c)?,
            ))
        })?;
        let http = Http::new(server_url, None, &trusted)?.routed(self.transport.clone());
        // Proof of possession: the token this device holds for this very server (current or
        // lapsed), so the server lets it enrol its own device id again. Never sent to another
        // server.
        let origin = server_url.trim().trim_end_matches('/');
        let token = held
            .filter(|e| e.server_url == origin && !e.token.is_empty())
            .map(|e| e.token.clone());
        let request = EnrollRequest {
            token,
            code: code.trim().to_string(),
            device_id: device.device_id,
            device_name: device.device_name,
        };
        let answer: EnrollResponse = http.post("/v1/enroll", &request).await.map_err(flatten)?;
        let now = self.now();
        self.store.write(|tx| {
            store::reference_install(tx, &answer.provisioning, now)?;
            store::save_enrolment(
                tx,
                now,
                origin,
                &answer.token,
                answer.server_id,
                answer.lease_seconds,
            )
        })
    }

    /// Trusts a certificate authority (PEM) for the sync server besides the system's, e.g. a
    /// force's private CA. Kept in the encrypted store. Text with no PEM certificate is
    /// refused as empty; a PEM block that is not a certificate usable as a trust anchor is
    /// refused as out of range, so a bad paste can never break every later sync.
    pub fn trust_certificate(&self, pem: &str) -> Result<()> {
        check_certificates(pem)?;
        self.store.write(|tx| store::trust(tx, pem))
    }
}

/// Checks that `pem` holds at least one certificate and that each parses as a trust anchor
/// (reqwest's own PEM reading accepts armour around any bytes).
fn check_certificates(pem: &str) -> Result<()> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let refused = || {
        Error::from(crate::ValidationError::OutOfRange {
            field: "certificate",
        })
    };
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots
            .add(der.map_err(|_| refused())?)
            .map_err(|_| refused())?;
    }
    if roots.is_empty() {
        return Err(crate::ValidationError::Empty {
            field: "certificate",
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_certificates;
    use crate::{Error, ValidationError};

    fn refusal(pem: &str) -> Option<ValidationError> {
        match check_certificates(pem) {
            Err(Error::Invalid(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn text_with_no_certificate_is_refused_as_empty() {
        for text in [
            "",
            "not a certificate",
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(
                matches!(
                    refusal(text),
                    Some(ValidationError::Empty {
                        field: "certificate"
                    })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn armour_around_bytes_that_are_no_certificate_is_refused() {
        let pem = "-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            refusal(pem),
            Some(ValidationError::OutOfRange {
                field: "certificate"
            })
        ));
        let broken_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(refusal(broken_base64).is_some());
    }
}
