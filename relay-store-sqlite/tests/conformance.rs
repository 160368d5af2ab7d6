//! The store conformance suite against [`SqliteStore`] on a temporary file.

use std::sync::Arc;

use relay_core::store::Store;
use relay_store_sqlite::{SqliteOptions, SqliteStore};

relay_core::store_conformance_tests!(|| async {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())
        .expect("open store");
    (Arc::new(store) as Arc<dyn Store>, dir)
});
