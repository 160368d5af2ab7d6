//! The store's connection pools: the main pool (reads, admin, the queue's other writes), one
//! for the group-commit writers (ingests and completions), and a small one of its own for
//! the delivery queue's lease statement.
//!
//! The writers' connections plan each statement once (`plan_cache_mode =
//! force_generic_plan`, [`WRITE_SETTINGS`]). Left to choose, PostgreSQL planned the ingest
//! and completion statements anew at nearly every execution: it prices a generic plan by
//! guesses (10 rows for each array it unnests) and a custom one by the batch at hand, and
//! the custom ones looked cheaper. Planning those statements cost the server more than
//! running them: at 1,000 events/s the server used 1.1 cores and the ingest → delivered
//! median was 4.4 ms; planned once, 0.8-0.9 cores and 2.3 ms, and `relay-bench deliver` went
//! from 14,214 to 16,042-18,046 deliveries/s (`benches/results/2026-12-07-postgres-latency.md`).
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
//!
//! Every pool also re-plans a connection's statements now and then ([`refreshes_plans`]).
//! PostgreSQL keeps the plan of a prepared statement until an `ANALYZE` of its tables, and
//! it sizes a table by its current pages when it plans. A store that starts on empty
//! tables therefore keeps plans made for tables of a few rows (a sequential scan of
//! `events` for the ingest's duplicate check, a full scan of `deliveries` for a
//! completion) while the tables grow, until autovacuum's first `ANALYZE` of them, up to a
//! minute later: in a 10 s `end-to-end` run, never. Re-planned at the 2nd, 4th, 8th … use of
//! a connection, a plan was made when the tables had at least about half the rows this
//! connection has written since, at the cost of one `DISCARD PLANS` per doubling.

use std::time::Duration;

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;

use crate::error::PgStoreError;
use crate::tls;

/// The settings of a lease connection: the planner's (see the module documentation) and
/// asynchronous commits (`synchronous_commit = off`).
///
/// A lease's commit does not wait for its WAL flush: on this store's path from an ingest to
/// its delivery, that wait was a second flush in series after the ingest's own (the
/// ingest → delivered median at 1,000 events/s: 6.8 ms with it, 4.9 ms without, medians of
/// 3 alternating runs in `benches/results/2026-12-07-postgres-latency.md`).
/// Nothing relies on a lease being durable before its attempt. A lease lost in a server
/// crash leaves the delivery as it was before, due again, so it is delivered again (at
/// least once, as after any crash during an attempt). Its holder's completion then
/// matches nothing, since a new lease's token is never a lost one's
/// ([`crate::queue::NEXT_TOKEN`]). A completion commits synchronously, and the WAL is
/// flushed in order, so a recorded attempt's lease is always durable with it.
pub(crate) const LEASE_SETTINGS: &str = "SET enable_bitmapscan = off; SET enable_seqscan = off;
    SET enable_hashjoin = off; SET enable_mergejoin = off; SET jit = off;
    SET plan_cache_mode = force_generic_plan; SET synchronous_commit = off";

/// Whether a connection recycled `recycled` times before drops its statements' plans as it
/// is handed out, so they are made again from the tables as they are now: at its 2nd, 4th,
/// 8th … use (its first use is when it is opened).
pub(crate) fn refreshes_plans(recycled: usize) -> bool {
    recycled.saturating_add(2).is_power_of_two()
}

/// The settings of a group-commit writer's connection: each statement planned once (see the
/// module documentation), and no JIT compilation.
pub(crate) const WRITE_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan; SET jit = off";

/// How many connections the lease pool opens at most: one worker leases at a time, so one
/// per worker sharing the store is plenty; more workers wait their turn.
pub(crate) const LEASE_CONNECTIONS: usize = 2;

/// Builds a pool of at most `size` connections to `config`; every connection runs `setup`
/// (when given) once it is opened, and drops its plans when [`refreshes_plans`] says so.
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
        .recycle_timeout(Some(timeout))
        .post_recycle(Hook::async_fn(|client, metrics| {
            let refresh = refreshes_plans(metrics.recycle_count);
            Box::pin(async move {
                if refresh {
                    client
                        .batch_execute("DISCARD PLANS")
                        .await
                        .map_err(HookError::Backend)?;
                }
                Ok(())
            })
        }));
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

#[cfg(test)]
mod tests {
    use super::refreshes_plans;

    #[test]
    fn plans_are_refreshed_at_every_doubling_of_the_reuses() {
        let uses: Vec<usize> = (0..=1100)
            .filter(|&recycled| refreshes_plans(recycled))
            .map(|recycled| recycled + 2)
            .collect();
        assert_eq!(uses, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    }
}
