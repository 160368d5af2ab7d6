//! The store conformance suite against [`PgStore`], each case in a schema of its own.
//! Skipped loudly without `RELAY_TEST_POSTGRES_URL` (fails with `RELAY_REQUIRE_BACKENDS=1`).

mod common;

use std::sync::Arc;

use relay_core::store::Store;

relay_core::store_conformance_tests!(optional: || async {
    let schema = common::TestSchema::new("relay-store-postgres conformance")?;
    let store = schema.store().await;
    Some((Arc::new(store) as Arc<dyn Store>, schema))
});
