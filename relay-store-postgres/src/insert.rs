//! Ingest as a group commit: a batch of new events is written by ONE statement (so ONE
//! commit): claim the dedup keys, then write the events and deliveries that won their key.
//!
//! The claim is `INSERT … ON CONFLICT DO UPDATE` on the dedup table's primary key, which
//! waits for a concurrent claim of the same key (in this process or another node) to commit
//! or roll back, then sees it: of any number of concurrent ingests of one key, exactly one
//! wins. An unexpired entry is rewritten unchanged, so `RETURNING` names the original event
//! for a duplicate. Rows are claimed in key order, so two batches never deadlock. An event
//! whose id is already stored (a publish with a fixed id, moved again) wins nothing: its
//! outcome is the duplicate of itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deadpool_postgres::Pool;
use relay_core::deliver::ordering::OnDeadLetter;
use relay_core::model::ids::EventId;
use relay_core::store::codec::encode_headers;
use relay_core::store::{InsertOutcome, NewEvent, StoreError};
use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::error::{PgStoreError, row_level, transient};
use crate::rows::get;

/// One ingest waiting for its group commit.
pub(crate) struct Job {
    /// What to write.
    pub(crate) new: NewEvent,
    /// Where its outcome goes once committed.
    pub(crate) reply: oneshot::Sender<Result<InsertOutcome, StoreError>>,
}

const INSERT_BATCH: &str = "
WITH input AS (
    SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::bytea[], $7::bytea[], $8::int8[], $9::text[], $10::int8[])
        WITH ORDINALITY AS u(id, tenant, source, event_type, idempotency_key, headers, body,
                             received_at, status, dedup_until, ord)
),
claimed AS (
    INSERT INTO dedup AS d (tenant, source, idempotency_key, event_id, received_at, expires_at)
    SELECT tenant, source, idempotency_key, id, received_at, dedup_until FROM input ORDER BY ord
    ON CONFLICT (tenant, source, idempotency_key) DO UPDATE SET
        event_id = CASE WHEN d.expires_at <= EXCLUDED.received_at
                        THEN EXCLUDED.event_id ELSE d.event_id END,
        received_at = CASE WHEN d.expires_at <= EXCLUDED.received_at
                           THEN EXCLUDED.received_at ELSE d.received_at END,
        expires_at = CASE WHEN d.expires_at <= EXCLUDED.received_at
                          THEN EXCLUDED.expires_at ELSE d.expires_at END
    RETURNING tenant, source, idempotency_key, event_id
),
won AS (
    SELECT input.* FROM input JOIN claimed ON claimed.event_id = input.id
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = input.id)
),
new_events AS (
    INSERT INTO events (id, tenant, source, event_type, idempotency_key, headers, body,
                        received_at, status)
    SELECT id, tenant, source, event_type, idempotency_key, headers, body, received_at, status
    FROM won ORDER BY ord
),
new_deliveries AS (
    INSERT INTO deliveries (id, tenant, event_id, destination, route, status,
                            next_attempt_at, created_at, updated_at, ordering_key,
                            ordering_block, agent)
    SELECT p.id, w.tenant, p.event_id, p.destination, p.route, 'pending',
           w.received_at, w.received_at, w.received_at, p.ordering_key, p.ordering_block,
           p.agent
    FROM UNNEST($11::uuid[], $12::uuid[], $13::text[], $14::text[], $15::text[],
                $16::bool[], $17::text[])
        WITH ORDINALITY AS p(id, event_id, destination, route, ordering_key, ordering_block,
                             agent, ord)
    JOIN won w ON w.id = p.event_id
    ORDER BY p.ord
)
SELECT c.tenant, c.source, c.idempotency_key, c.event_id,
       EXISTS (SELECT 1 FROM won w WHERE w.id = c.event_id) AS won
FROM claimed c";

type Key<'a> = (&'a str, &'a str, &'a str);

fn key(new: &NewEvent) -> Key<'_> {
    let e = &new.event;
    (e.tenant.as_str(), &e.source, &e.idempotency_key)
}

/// A round's values, column by column, bound as arrays.
struct Columns<'a> {
    ids: Vec<Uuid>,
    tenants: Vec<&'a str>,
    sources: Vec<&'a str>,
    types: Vec<&'a str>,
    keys: Vec<&'a str>,
    headers: Vec<Vec<u8>>,
    bodies: Vec<&'a [u8]>,
    received: Vec<i64>,
    statuses: Vec<&'a str>,
    dedup_until: Vec<i64>,
    delivery_ids: Vec<Uuid>,
    delivery_events: Vec<Uuid>,
    destinations: Vec<&'a str>,
    routes: Vec<&'a str>,
    ordering_keys: Vec<Option<&'a str>>,
    ordering_blocks: Vec<bool>,
    agents: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn of(round: &[&'a NewEvent]) -> Self {
        let events = || round.iter().map(|new| &new.event);
        let deliveries = || {
            round
                .iter()
                .flat_map(|new| new.deliveries.iter().map(move |d| (new.event.id, d)))
        };
        Self {
            ids: events().map(|e| e.id.as_uuid()).collect(),
            tenants: events().map(|e| e.tenant.as_str()).collect(),
            sources: events().map(|e| e.source.as_str()).collect(),
            types: events().map(|e| e.event_type.as_str()).collect(),
            keys: events().map(|e| e.idempotency_key.as_str()).collect(),
            headers: events().map(|e| encode_headers(&e.headers)).collect(),
            bodies: events().map(|e| &e.body[..]).collect(),
            received: events().map(|e| e.received_at.as_millis()).collect(),
            statuses: events().map(|e| e.status.as_str()).collect(),
            dedup_until: round.iter().map(|n| n.dedup_until.as_millis()).collect(),
            delivery_ids: deliveries().map(|(_, d)| d.id.as_uuid()).collect(),
            delivery_events: deliveries().map(|(e, _)| e.as_uuid()).collect(),
            destinations: deliveries().map(|(_, d)| d.destination.as_str()).collect(),
            routes: deliveries().map(|(_, d)| d.route.as_str()).collect(),
            ordering_keys: deliveries()
                .map(|(_, d)| d.ordering.as_ref().map(|o| o.key.as_str()))
                .collect(),
            ordering_blocks: deliveries()
                .map(|(_, d)| {
                    d.ordering
                        .as_ref()
                        .is_some_and(|o| o.on_dead_letter == OnDeadLetter::Block)
                })
                .collect(),
            agents: deliveries().map(|(_, d)| d.agent.as_deref()).collect(),
        }
    }

    /// `$1` to `$17` of [`INSERT_BATCH`].
    fn params(&self) -> [&(dyn ToSql + Sync); 17] {
        [
            &self.ids,
            &self.tenants,
            &self.sources,
            &self.types,
            &self.keys,
            &self.headers,
            &self.bodies,
            &self.received,
            &self.statuses,
            &self.dedup_until,
            &self.delivery_ids,
            &self.delivery_events,
            &self.destinations,
            &self.routes,
            &self.ordering_keys,
            &self.ordering_blocks,
            &self.agents,
        ]
    }
}

/// Writes `round` (whose keys are distinct) in one statement: each event's outcome, in order.
async fn write_round(pool: &Pool, round: &[&NewEvent]) -> Result<Vec<InsertOutcome>, PgStoreError> {
    let columns = Columns::of(round);
    let client = pool.get().await?;
    let statement = client.prepare_cached(INSERT_BATCH).await?;
    let rows = client.query(&statement, &columns.params()).await?;
    let mut holders: HashMap<(String, String, String), (Uuid, bool)> =
        HashMap::with_capacity(rows.len());
    for row in &rows {
        let claim = (get(row, 0)?, get(row, 1)?, get(row, 2)?);
        holders.insert(claim, (get(row, 3)?, get(row, 4)?));
    }
    round
        .iter()
        .map(|new| {
            let (t, s, k) = key(new);
            let holder = holders
                .get(&(t.to_owned(), s.to_owned(), k.to_owned()))
                .ok_or_else(|| PgStoreError::Corrupt("dedup claim returned no row".into()))?;
            let (holder, won) = *holder;
            Ok(if won && holder == new.event.id.as_uuid() {
                InsertOutcome::Inserted
            } else {
                InsertOutcome::Duplicate {
                    original: EventId::from_bytes(holder.into_bytes()),
                }
            })
        })
        .collect()
}

/// Writes one event alone, retrying a deadlock or serialisation failure twice.
async fn write_one(pool: &Pool, new: &NewEvent) -> Result<InsertOutcome, StoreError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match write_round(pool, &[new]).await {
            Ok(mut outcome) => {
                return outcome
                    .pop()
                    .ok_or_else(|| StoreError::Corrupt("no outcome".into()));
            }
            Err(error) if tries < 3 && transient(&error) => continue,
            Err(error) => return Err(error.into()),
        }
    }
}

/// Commits `jobs` and answers each. Jobs sharing a key go to successive rounds (one
/// statement each), so a later one sees the earlier one's claim. When a round fails for a
/// reason that one row can cause, its jobs are retried one by one so only the culprit fails.
pub(crate) async fn commit(pool: &Pool, jobs: Vec<Job>, commits: &Arc<AtomicU64>) {
    for mut round in rounds(jobs) {
        round.sort_by(|a, b| key(&a.new).cmp(&key(&b.new)));
        let news: Vec<&NewEvent> = round.iter().map(|job| &job.new).collect();
        match write_round(pool, &news).await {
            Ok(outcomes) => {
                commits.fetch_add(1, Ordering::Relaxed);
                for (job, outcome) in round.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(error) if row_level(&error) => {
                tracing::debug!(%error, jobs = round.len(), "group commit failed; writing one by one");
                for job in round {
                    let outcome = write_one(pool, &job.new).await;
                    if outcome.is_ok() {
                        commits.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::warn!(%error, jobs = round.len(), "group commit failed");
                let shared = Arc::new(error);
                for job in round {
                    let _ = job
                        .reply
                        .send(Err(PgStoreError::Batch(Arc::clone(&shared)).into()));
                }
            }
        }
    }
}

/// Splits `jobs` into rounds in which every key appears once, keeping arrival order per key.
fn rounds(jobs: Vec<Job>) -> Vec<Vec<Job>> {
    let mut seen: HashMap<Key<'_>, usize> = HashMap::with_capacity(jobs.len());
    let placement: Vec<usize> = jobs
        .iter()
        .map(|job| {
            let count = seen.entry(key(&job.new)).or_insert(0);
            *count += 1;
            *count - 1
        })
        .collect();
    let n = placement.iter().max().map_or(0, |m| m + 1);
    let mut rounds: Vec<Vec<Job>> = (0..n).map(|_| Vec::new()).collect();
    for (job, round) in jobs.into_iter().zip(placement) {
        rounds[round].push(job);
    }
    rounds
}
