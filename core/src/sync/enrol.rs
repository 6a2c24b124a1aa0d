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
        let (device, trusted) = self
            .store
            .read(|c| Ok((DeviceState::load(c)?, store::trusted(c)?)))?;
        let http = Http::new(server_url, None, &trusted)?;
        let request = EnrollRequest {
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
                server_url.trim().trim_end_matches('/'),
                &answer.token,
                answer.server_id,
                answer.lease_seconds,
            )
        })
    }

    /// Trusts a certificate authority (PEM) for the sync server besides the system's, e.g. a
    /// force's private CA. Kept in the encrypted store.
    pub fn trust_certificate(&self, pem: &str) -> Result<()> {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(crate::ValidationError::Empty {
                field: "certificate",
            }
            .into());
        }
        reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|_| {
            Error::from(crate::ValidationError::OutOfRange {
                field: "certificate",
            })
        })?;
        self.store.write(|tx| store::trust(tx, pem))
    }
}
