//! Establishments: adding one by hand, importing (or re-importing) the DfE GIAS extract — new
//! schools added, known ones updated by URN, statuses kept, nothing deleted — and listing.

use std::path::Path;

use pocketbook_protocol::{Establishment, EstablishmentKind};

use super::AdminError;
use crate::gias::{self, EstablishmentStatus};
use crate::store::Store;

/// An establishment to add or update by hand (open, offered to devices).
#[derive(Debug, Clone)]
pub struct NewEstablishment {
    /// DfE URN: an establishment with this URN is updated in place.
    pub urn: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: EstablishmentKind,
    /// Ward.
    pub ward: Option<String>,
}

/// How many establishments a put added and updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    /// New URNs.
    pub added: usize,
    /// Known URNs, updated in place.
    pub updated: usize,
}

/// What a GIAS import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GiasSummary {
    /// Establishments added and updated.
    pub upserted: Upserted,
    /// Of those, how many GIAS lists as closed (kept, not offered to devices).
    pub closed: usize,
    /// Of those, how many GIAS lists as proposed to open (kept, not offered yet).
    pub proposed_to_open: usize,
    /// Rows of kinds Pocketbook does not work with.
    pub skipped: usize,
}

/// Adds an establishment, or updates the one with its URN.
pub async fn add_establishment<S: Store>(
    store: &S,
    new: NewEstablishment,
) -> Result<Upserted, AdminError> {
    let e = Establishment {
        id: store.sources().new_id(),
        urn: new.urn,
        name: new.name,
        kind: new.kind,
        ward: new.ward,
        dsl_contact: None,
        dedicated_officer: None,
        priority: 0,
        closed: false,
    };
    let (added, updated) = store.put_establishments(vec![e]).await?;
    Ok(Upserted { added, updated })
}

/// Imports a GIAS extract (Windows-1252 or UTF-8 CSV bytes).
pub async fn import_gias<S: Store>(store: &S, bytes: &[u8]) -> Result<GiasSummary, AdminError> {
    let import = gias::parse(bytes, store.sources().as_ref())?;
    let count = |status| {
        import
            .establishments
            .iter()
            .filter(|e| e.status == status)
            .count()
    };
    let closed = count(EstablishmentStatus::Closed);
    let proposed_to_open = count(EstablishmentStatus::ProposedToOpen);
    let (added, updated) = store.put_gias_establishments(import.establishments).await?;
    Ok(GiasSummary {
        upserted: Upserted { added, updated },
        closed,
        proposed_to_open,
        skipped: import.skipped,
    })
}

/// Imports the GIAS extract in `file`.
pub async fn import_gias_file<S: Store>(store: &S, file: &Path) -> Result<GiasSummary, AdminError> {
    let bytes = std::fs::read(file)?;
    import_gias(store, &bytes).await
}

/// Every establishment, by URN, closed and not yet open ones included.
pub async fn establishments<S: Store>(store: &S) -> Result<Vec<Establishment>, AdminError> {
    Ok(store.establishments().await?)
}
