//! [`UNAVAILABLE_STORE`]: every operation of every capability fails like a database that is
//! down.

use relay_core::store::{Refuse, StoreError};

/// A store whose every operation fails (a database that is down), for the 503 row of the
/// contract.
pub const UNAVAILABLE_STORE: Refuse = Refuse::new(down);

fn down(_capability: &'static str) -> StoreError {
    StoreError::unavailable(std::io::Error::other("database is down"))
}
