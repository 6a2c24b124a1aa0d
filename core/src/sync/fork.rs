//! What a sync does when the server says this store is a copy of another device's
//! (`409 device_forked`, issue 12): the store becomes a new device in one transaction
//! (`store::become_new_device`: what the server holds as sent is kept as acknowledged, the
//! rest re-stamped under a new id) and the sync ends with [`Error::DeviceForked`]. The officer
//! re-enrols the new id with a code (`reauthenticate`); the next sync pushes the re-stamped
//! changes. Every record stays visible throughout. Before that, the changes the server holds
//! as sent are asked for alone, so the outcome it stored for each (a refusal too) is applied
//! rather than every one being taken as accepted.

use pocketbook_protocol::wire::{AckedPosition, PushRequest, PushResponse};

use super::http::{CallError, Http};
use super::{apply_answer, flatten};
use crate::error::{Error, Result};
use crate::store;
use crate::{ChangeOrigin, Pocketbook};

impl Pocketbook {
    /// The changes of `request` at or below the server's `position` are the ones it holds as
    /// sent: resends them alone (no audit events, so nothing differs) and applies the outcomes
    /// it stored. Seed 268 of the simulation (with restores) found a refused create taken as
    /// accepted by the fork, the record staying on the phone only. A second `device_forked`
    /// (the acknowledged position itself differs) leaves them as before.
    pub(crate) async fn learn_held_outcomes(
        &self,
        http: &Http,
        request: &PushRequest,
        position: &AckedPosition,
    ) -> Result<()> {
        let held: Vec<_> = request
            .mutations
            .iter()
            .filter(|m| m.seq <= position.seq)
            .cloned()
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        let ask = PushRequest {
            mutations: held,
            epoch: request.epoch.clone(),
            acked: request.acked.clone(),
            ..PushRequest::default()
        };
        let mut answer: PushResponse = match http.post("/v1/sync/push", &ask).await {
            Ok(answer) => answer,
            Err(CallError::Forked(_)) => return Ok(()),
            Err(e) => return Err(flatten(e)),
        };
        // The server's high-water mark is the other copy's: what this store numbered above
        // the prefix is not acknowledged (it is re-stamped), nor are audit events.
        answer.acked_seq = answer.acked_seq.min(position.seq);
        answer.audit_acked_seq = answer.audit_acked_seq.min(position.audit_seq);
        let now = self.now();
        self.store
            .write(|tx| apply_answer(tx, &ask.mutations, &answer, now).map(|_| ()))
    }

    /// Re-stamps this store as a new device after `device_forked`; always `Err(DeviceForked)`
    /// once that is committed.
    pub(crate) fn become_new_device(&self, position: &AckedPosition) -> Result<()> {
        let new_id = self.sources.new_id();
        let now = self.now();
        self.store
            .write(|tx| store::become_new_device(tx, position, new_id, now).map(|_| ()))?;
        // Audit events and the outbox were renumbered; the records themselves are unchanged.
        self.events.data_changed(ChangeOrigin::Synced);
        Err(Error::DeviceForked)
    }
}
