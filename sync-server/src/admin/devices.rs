//! Enrolled devices: listing them (with any suspension), revoking one (its next sync wipes
//! it), and lifting a suspension.

use uuid::Uuid;

use super::AdminError;
use crate::store::{DeviceInfo, Store};

/// Every device, by enrolment.
pub async fn devices<S: Store>(store: &S) -> Result<Vec<DeviceInfo>, AdminError> {
    Ok(store.devices().await?)
}

/// Revokes a live device.
pub async fn revoke_device<S: Store>(store: &S, id: Uuid) -> Result<(), AdminError> {
    if store.revoke(id).await? {
        Ok(())
    } else {
        Err(AdminError::UnknownDevice)
    }
}

/// Lifts a suspended device's suspension (audited).
pub async fn lift_suspension<S: Store>(store: &S, id: Uuid) -> Result<(), AdminError> {
    if store.lift_suspension(id).await? {
        Ok(())
    } else {
        Err(AdminError::UnknownDevice)
    }
}
