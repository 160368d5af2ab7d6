//! The store conformance suite against [`MemoryStore`].

use std::sync::Arc;

use relay_core::memory::MemoryStore;
use relay_core::store::Store;

relay_core::store_conformance_tests!(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> });
