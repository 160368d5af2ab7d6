//! Attempt completions as a group commit: the completions queued while the previous commit
//! ran are written by ONE statement (so ONE commit, one WAL flush), instead of one
//! autocommit statement each.
//!
//! The statement fences every completion exactly as a lone one would: a delivery moves on
//! (and its attempt is recorded) only if it is still `in_flight` under the completion's
//! lease token; the completions that moved nothing are answered
//! [`StoreError::LeaseLost`] one by one. A retried ordered delivery holds its lane in the
//! same statement: the pending deliveries behind it are made due no earlier than it (the
//! latest of the retries when several heads of one lane are in the batch).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deadpool_postgres::Pool;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::time::Timestamp;
use relay_core::store::{AttemptCompletion, NextStep, StoreError};
use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::error::{PgStoreError, row_level, transient};
use crate::rows::get;

/// One completion waiting for its group commit.
pub(crate) struct Job {
    /// What to write.
    pub(crate) completion: AttemptCompletion,
    /// Where its outcome goes once committed.
    pub(crate) reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Moves each input delivery on under its lease, records the attempts of those that moved,
/// holds the lanes behind the retried ordered ones, and returns the ordinals that moved.
const COMPLETE_BATCH: &str = "
WITH input AS (
    SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::text[], $5::int8[],
                         $6::text[], $7::uuid[], $8::int4[], $9::int8[], $10::int8[],
                         $11::int4[], $12::text[], $13::text[], $14::bool[], $16::text[],
                         $17::bytea[])
        WITH ORDINALITY AS u(id, tenant, token, status, due_at, error, attempt_of, number,
                             started_at, latency_ms, status_code, excerpt, outcome, hold,
                             detail, request_body, ord)
),
moved AS (
    UPDATE deliveries d SET status = i.status, next_attempt_at = i.due_at,
        attempts = d.attempts + 1, cycle_attempts = d.cycle_attempts + 1,
        last_error = i.error, updated_at = $15::int8
    FROM input i
    WHERE d.id = i.id AND d.tenant = i.tenant AND d.lease_token = i.token
        AND d.status = 'in_flight'
    RETURNING i.ord, d.tenant, d.destination, d.ordering_key, d.seq, i.due_at, i.hold
),
recorded AS (
    INSERT INTO attempts (tenant, delivery_id, number, started_at, latency_ms, status_code,
        error, response_excerpt, outcome, detail, request_body)
    SELECT m.tenant, i.attempt_of, i.number, i.started_at, i.latency_ms, i.status_code,
        i.error, i.excerpt, i.outcome, i.detail, i.request_body
    FROM moved m JOIN input i ON i.ord = m.ord
    ORDER BY m.ord
),
held AS (
    UPDATE deliveries f SET next_attempt_at = h.due_at
    FROM (
        SELECT b.id, max(m.due_at) AS due_at
        FROM moved m JOIN deliveries b
            ON b.tenant = m.tenant AND b.destination = m.destination
                AND b.ordering_key = m.ordering_key AND b.seq > m.seq
        WHERE m.hold AND m.ordering_key IS NOT NULL
            AND b.status = 'pending' AND b.next_attempt_at < m.due_at
        GROUP BY b.id
    ) h
    WHERE f.id = h.id AND f.status = 'pending' AND f.next_attempt_at < h.due_at
)
SELECT ord FROM moved";

/// A fencing token as stored (a token that does not fit matches no row).
fn token(completion: &AttemptCompletion) -> i64 {
    i64::try_from(completion.lease.token).unwrap_or(-1)
}

/// A round's values, column by column, bound as arrays (`$1` to `$14`, `$16` and `$17`).
struct Columns<'a> {
    ids: Vec<Uuid>,
    tenants: Vec<&'a str>,
    tokens: Vec<i64>,
    statuses: Vec<&'static str>,
    due_at: Vec<i64>,
    errors: Vec<Option<&'a str>>,
    attempt_of: Vec<Uuid>,
    numbers: Vec<i32>,
    started_at: Vec<i64>,
    latencies: Vec<i64>,
    status_codes: Vec<Option<i32>>,
    excerpts: Vec<Option<&'a str>>,
    outcomes: Vec<&'static str>,
    holds: Vec<bool>,
    details: Vec<Option<String>>,
    bodies: Vec<Option<&'a [u8]>>,
}

impl<'a> Columns<'a> {
    fn of(round: &[&'a AttemptCompletion]) -> Self {
        let attempts = || round.iter().map(|c| &c.attempt);
        let steps = || {
            round.iter().map(|c| match c.next {
                NextStep::Delivered => (DeliveryStatus::Delivered, c.attempt.started_at, false),
                NextStep::RetryAt(at) => (DeliveryStatus::Pending, at, true),
                NextStep::DeadLettered => {
                    (DeliveryStatus::DeadLettered, c.attempt.started_at, false)
                }
            })
        };
        Self {
            ids: round
                .iter()
                .map(|c| c.lease.delivery_id.as_uuid())
                .collect(),
            tenants: round.iter().map(|c| c.lease.tenant.as_str()).collect(),
            tokens: round.iter().map(|c| token(c)).collect(),
            statuses: steps().map(|(status, _, _)| status.as_str()).collect(),
            due_at: steps().map(|(_, at, _)| at.as_millis()).collect(),
            errors: attempts().map(|a| a.error.as_deref()).collect(),
            attempt_of: attempts().map(|a| a.delivery_id.as_uuid()).collect(),
            numbers: attempts()
                .map(|a| i32::try_from(a.number).unwrap_or(i32::MAX))
                .collect(),
            started_at: attempts().map(|a| a.started_at.as_millis()).collect(),
            latencies: attempts().map(|a| i64::from(a.latency_ms)).collect(),
            status_codes: attempts().map(|a| a.status_code.map(i32::from)).collect(),
            excerpts: attempts().map(|a| a.response_excerpt.as_deref()).collect(),
            outcomes: attempts().map(|a| a.outcome.as_str()).collect(),
            holds: steps().map(|(_, _, hold)| hold).collect(),
            details: attempts().map(|a| a.detail.to_json()).collect(),
            bodies: attempts()
                .map(|a| a.detail.request_body.as_deref())
                .collect(),
        }
    }
}

/// Writes `round` (whose deliveries are distinct) in one statement: for each completion,
/// whether its lease was still held (so it was written).
async fn write_round(pool: &Pool, round: &[&AttemptCompletion]) -> Result<Vec<bool>, PgStoreError> {
    let c = Columns::of(round);
    let now = Timestamp::now().as_millis();
    let params: [&(dyn ToSql + Sync); 17] = [
        &c.ids,
        &c.tenants,
        &c.tokens,
        &c.statuses,
        &c.due_at,
        &c.errors,
        &c.attempt_of,
        &c.numbers,
        &c.started_at,
        &c.latencies,
        &c.status_codes,
        &c.excerpts,
        &c.outcomes,
        &c.holds,
        &now,
        &c.details,
        &c.bodies,
    ];
    let client = pool.get().await?;
    let statement = client.prepare_cached(COMPLETE_BATCH).await?;
    let rows = client.query(&statement, &params).await?;
    let mut moved = HashSet::with_capacity(rows.len());
    for row in &rows {
        let ord: i64 = get(row, 0)?;
        moved.insert(ord);
    }
    Ok((1..=round.len())
        .map(|ord| i64::try_from(ord).is_ok_and(|ord| moved.contains(&ord)))
        .collect())
}

/// The answer for a completion: written, or its lease was lost.
fn answer(completion: &AttemptCompletion, written: bool) -> Result<(), StoreError> {
    if written {
        Ok(())
    } else {
        Err(StoreError::LeaseLost(completion.lease.delivery_id))
    }
}

/// Writes one completion alone, retrying a deadlock or serialisation failure twice.
async fn write_one(pool: &Pool, completion: &AttemptCompletion) -> Result<(), StoreError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match write_round(pool, &[completion]).await {
            Ok(written) => return answer(completion, written.first().copied().unwrap_or(false)),
            Err(error) if tries < 3 && transient(&error) => continue,
            Err(error) => return Err(error.into()),
        }
    }
}

/// Commits `jobs` and answers each. Completions of one delivery go to successive rounds (one
/// statement each), so a later one sees what the earlier one wrote (and is fenced by it).
/// When a round fails for a reason one row can cause (bad data, a deadlock), its jobs are
/// retried one by one so only the culprit fails.
pub(crate) async fn commit(pool: &Pool, jobs: Vec<Job>, commits: &Arc<AtomicU64>) {
    for mut round in rounds(jobs) {
        // The same lock order in every batch: concurrent batches do not deadlock.
        round.sort_by_key(|job| job.completion.lease.delivery_id.as_uuid());
        let completions: Vec<&AttemptCompletion> =
            round.iter().map(|job| &job.completion).collect();
        match write_round(pool, &completions).await {
            Ok(written) => {
                commits.fetch_add(1, Ordering::Relaxed);
                for (job, written) in round.into_iter().zip(written) {
                    let _ = job.reply.send(answer(&job.completion, written));
                }
            }
            Err(error) if row_level(&error) => {
                tracing::debug!(%error, jobs = round.len(), "completion group commit failed; writing one by one");
                for job in round {
                    let outcome = write_one(pool, &job.completion).await;
                    if !matches!(outcome, Err(StoreError::Unavailable(_))) {
                        commits.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::warn!(%error, jobs = round.len(), "completion group commit failed");
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

/// Splits `jobs` into rounds in which every delivery appears once, keeping arrival order per
/// delivery.
fn rounds(jobs: Vec<Job>) -> Vec<Vec<Job>> {
    let mut seen: HashMap<Uuid, usize> = HashMap::with_capacity(jobs.len());
    let mut rounds: Vec<Vec<Job>> = Vec::new();
    for job in jobs {
        let count = seen
            .entry(job.completion.lease.delivery_id.as_uuid())
            .or_insert(0);
        let round = *count;
        *count += 1;
        if rounds.len() <= round {
            rounds.push(Vec::new());
        }
        rounds[round].push(job);
    }
    rounds
}

#[cfg(test)]
mod tests {
    use relay_core::model::event::{Attempt, AttemptOutcome};
    use relay_core::model::ids::{DeliveryId, TenantId};
    use relay_core::store::Lease;

    use super::*;

    fn job(delivery: DeliveryId, token: u64) -> Job {
        let lease = Lease {
            tenant: TenantId::default_tenant(),
            delivery_id: delivery,
            token,
        };
        let completion = AttemptCompletion {
            lease,
            attempt: Attempt {
                delivery_id: delivery,
                number: 1,
                started_at: Timestamp::from_millis(1),
                latency_ms: 1,
                status_code: Some(200),
                error: None,
                response_excerpt: None,
                outcome: AttemptOutcome::Delivered,
                detail: Default::default(),
            },
            next: NextStep::Delivered,
        };
        let (reply, _) = oneshot::channel();
        Job { completion, reply }
    }

    fn tokens(round: &[Job]) -> Vec<(DeliveryId, u64)> {
        round
            .iter()
            .map(|j| (j.completion.lease.delivery_id, j.completion.lease.token))
            .collect()
    }

    #[test]
    fn completions_of_one_delivery_go_to_successive_rounds_in_arrival_order() {
        let (a, b) = (DeliveryId::new(), DeliveryId::new());
        let jobs = vec![job(a, 1), job(b, 1), job(a, 2), job(a, 3)];
        let rounds = rounds(jobs);
        assert_eq!(rounds.len(), 3);
        assert_eq!(tokens(&rounds[0]), vec![(a, 1), (b, 1)]);
        assert_eq!(tokens(&rounds[1]), vec![(a, 2)]);
        assert_eq!(tokens(&rounds[2]), vec![(a, 3)]);
        assert!(super::rounds(Vec::new()).is_empty());
    }

    #[test]
    fn a_token_that_does_not_fit_matches_no_row() {
        let fits = job(DeliveryId::new(), 7);
        assert_eq!(token(&fits.completion), 7);
        let huge = job(DeliveryId::new(), u64::MAX);
        assert_eq!(token(&huge.completion), -1);
    }
}
