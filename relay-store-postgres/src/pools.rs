//! The store's connection pools: the main pool (ingest, completions, reads, admin) and a
//! small one of its own for the delivery queue's lease statement.
//!
//! The lease statement must walk `deliveries_due` in order and stop after `LIMIT` rows.
//! PostgreSQL re-plans it at every call from the table's statistics, and those go stale
//! exactly when the queue grows fast: an `ANALYZE` taken early in a burst, plus the
//! in-flight leases' expiries (in the future) at the top of the same index, make the planner
//! believe a few dozen rows are due when tens of thousands are. It then picks a bitmap scan
//! of every due row, evaluates the held-destination checks on each, and sorts them all, so
//! a lease of 64 rows took 135 ms with 58,000 due instead of about 1 ms. And re-planning
//! it costs 0.4-1.6 ms of server CPU per lease, more than running it.
//!
//! The lease connections therefore run only that statement, with settings that leave the
//! planner one shape, whatever the statistics say: index scans (no bitmap or sequential
//! scans) joined by nested loops (no hash or merge joins), planned once per connection
//! (`plan_cache_mode = force_generic_plan`; PostgreSQL still re-plans after an `ANALYZE`
//! or a schema change), and no JIT compilation (with the disabled plan types priced out,
//! the estimated cost would cross `jit_above_cost`: compiling took 0.8 s in a test). The
//! settings are made by `SET` when a connection is opened, so they also work through
//! poolers that refuse startup options.

use std::time::Duration;

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;

use crate::error::PgStoreError;
use crate::tls;

/// The planner settings of a lease connection (see the module documentation).
pub(crate) const LEASE_SETTINGS: &str = "SET enable_bitmapscan = off; SET enable_seqscan = off;
    SET enable_hashjoin = off; SET enable_mergejoin = off; SET jit = off;
    SET plan_cache_mode = force_generic_plan";

/// How many connections the lease pool opens at most: one worker leases at a time, so one
/// per worker sharing the store is plenty; more workers wait their turn.
pub(crate) const LEASE_CONNECTIONS: usize = 2;

/// Builds a pool of at most `size` connections to `config`; every connection runs `setup`
/// (when given) once it is opened.
pub(crate) fn build(
    config: &tokio_postgres::Config,
    roots: &tls::Roots,
    size: usize,
    timeout: Duration,
    setup: Option<&'static str>,
) -> Result<Pool, PgStoreError> {
    let recycling = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = if config.get_ssl_mode() == SslMode::Require {
        Manager::from_config(config.clone(), tls::connector(roots)?, recycling)
    } else {
        Manager::from_config(config.clone(), tokio_postgres::NoTls, recycling)
    };
    let mut builder = Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout));
    if let Some(setup) = setup {
        builder = builder.post_create(Hook::async_fn(move |client, _| {
            Box::pin(async move {
                client
                    .batch_execute(setup)
                    .await
                    .map_err(HookError::Backend)?;
                Ok(())
            })
        }));
    }
    Ok(builder.build()?)
}
