//! What a sync does when the server says this store is a copy of another device's
//! (`409 device_forked`, issue 12): the store becomes a new device in one transaction
//! (`store::become_new_device`: what the server holds as sent is kept as acknowledged, the
//! rest re-stamped under a new id) and the sync ends with [`Error::DeviceForked`]. The officer
//! re-enrols the new id with a code (`reauthenticate`); the next sync pushes the re-stamped
//! changes. Every record stays visible throughout.

use pocketbook_protocol::wire::AckedPosition;

use crate::error::{Error, Result};
use crate::store;
use crate::{ChangeOrigin, Pocketbook};

impl Pocketbook {
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
