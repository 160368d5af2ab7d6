//! The retry policy's rules: outcomes, the attempt budget, schedules, deadlines and
//! `Retry-After`.

use super::*;

fn response(status: u16) -> AttemptReport {
    AttemptReport::Response {
        status,
        retry_after: None,
    }
}

#[test]
fn outcome_rules() {
    let p = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(100));
    for status in [200, 201, 204, 299] {
        assert_eq!(
            p.decide(1, &response(status)),
            Decision::Delivered,
            "{status}"
        );
    }
    for status in [301, 302, 408, 429, 500, 502, 503] {
        assert!(
            matches!(p.decide(1, &response(status)), Decision::RetryAfter(_)),
            "{status}"
        );
    }
    for status in [400, 401, 403, 404, 422] {
        assert_eq!(
            p.decide(1, &response(status)),
            Decision::DeadLetter,
            "{status}"
        );
    }
    assert_eq!(p.decide(1, &response(410)), Decision::DisableDestination);
    assert!(matches!(
        p.decide(1, &AttemptReport::Failed(FailureKind::Timeout)),
        Decision::RetryAfter(_)
    ));
    assert_eq!(
        p.decide(1, &AttemptReport::Failed(FailureKind::Transform)),
        Decision::DeadLetter
    );
    assert_eq!(p.decide(1, &AttemptReport::Handled), Decision::Delivered);
}

#[test]
fn max_attempts_counts_the_first_attempt() {
    let p = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(100));
    assert!(matches!(
        p.decide(2, &response(500)),
        Decision::RetryAfter(_)
    ));
    assert_eq!(p.decide(3, &response(500)), Decision::DeadLetter);
    assert_eq!(
        RetryPolicy::new(1, Duration::ZERO, Duration::ZERO).decide(1, &response(500)),
        Decision::DeadLetter
    );
}

#[test]
fn a_schedule_is_followed_within_its_jitter_and_its_last_delay_repeats() {
    let ms = Duration::from_millis;
    let mut p = RetryPolicy::schedule([ms(1_000), ms(10_000), ms(60_000)]);
    assert_eq!(p.max_attempts, 4);
    for (attempt, base) in [(1, 1_000.0), (2, 10_000.0), (3, 60_000.0)] {
        let mut seen = Vec::new();
        for _ in 0..500 {
            let Decision::RetryAfter(delay) = p.decide(attempt, &response(503)) else {
                panic!("attempt {attempt} not retried");
            };
            let secs = delay.as_secs_f64() * 1_000.0;
            assert!(
                secs >= base * 0.8 - 1e-6 && secs <= base * 1.2 + 1e-6,
                "{delay:?}"
            );
            seen.push(secs);
        }
        let spread = seen.iter().copied().fold(f64::MIN, f64::max)
            - seen.iter().copied().fold(f64::MAX, f64::min);
        assert!(spread > base * 0.3, "jittered: spread {spread} of {base}");
    }
    assert_eq!(p.decide(4, &response(503)), Decision::DeadLetter);
    // More attempts than delays: the last delay repeats.
    p.max_attempts = 6;
    let Decision::RetryAfter(delay) = p.decide(5, &response(503)) else {
        panic!("not retried");
    };
    assert!(delay >= ms(48_000) && delay <= ms(72_000), "{delay:?}");
    // A longer Retry-After wins; non-retryable answers are unchanged.
    let report = AttemptReport::Response {
        status: 429,
        retry_after: Some(ms(5_000)),
    };
    assert_eq!(p.decide(1, &report), Decision::RetryAfter(ms(5_000)));
    assert_eq!(p.decide(1, &response(404)), Decision::DeadLetter);
}

#[test]
fn give_up_after_dead_letters_what_would_retry_past_the_deadline() {
    let secs = Duration::from_secs;
    let p = RetryPolicy::schedule([secs(100); 10]).give_up_after(secs(1_000));
    assert!(matches!(
        p.decide_at_age(1, &response(500), secs(10)),
        Decision::RetryAfter(_)
    ));
    assert_eq!(
        p.decide_at_age(5, &response(500), secs(950)),
        Decision::DeadLetter
    );
    assert_eq!(
        p.decide_at_age(5, &response(200), secs(5_000)),
        Decision::Delivered
    );
    // Backoff policies honour the deadline too.
    let backoff = RetryPolicy::new(50, secs(1), secs(1)).give_up_after(secs(60));
    assert_eq!(
        backoff.decide_at_age(3, &response(500), secs(60)),
        Decision::DeadLetter
    );
}

#[test]
fn retry_after_is_a_floor_beyond_backoffs_max() {
    let ms = Duration::from_millis;
    // The case: max_ms = 500 and a receiver asking for 1 s waits 1 s, not 0.5 s.
    let p = RetryPolicy::new(5, ms(100), ms(500));
    for _ in 0..200 {
        assert_eq!(
            p.decide(1, &busy(ms(1_000))),
            Decision::RetryAfter(ms(1_000))
        );
    }
    // A short Retry-After is a floor, not the wait: backoff may wait longer.
    let p = RetryPolicy::new(5, Duration::from_secs(10), Duration::from_secs(10));
    let waits: Vec<Duration> = (0..500)
        .map(|_| match p.decide(4, &busy(ms(50))) {
            Decision::RetryAfter(wait) => wait,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(waits.iter().all(|w| *w >= ms(50)));
    assert!(waits.iter().any(|w| *w > Duration::from_secs(1)));
}

#[test]
fn retry_after_is_capped_by_max_retry_after_only() {
    let secs = Duration::from_secs;
    let p = RetryPolicy::new(5, Duration::from_millis(1), secs(10));
    assert_eq!(p.max_retry_after, DEFAULT_MAX_RETRY_AFTER);
    assert_eq!(
        p.decide(1, &busy(secs(999))),
        Decision::RetryAfter(secs(999))
    );
    assert_eq!(
        p.decide(1, &busy(secs(86_400))),
        Decision::RetryAfter(secs(3_600))
    );
    let capped = p.clone().max_retry_after(secs(30));
    assert_eq!(
        capped.decide(1, &busy(secs(999))),
        Decision::RetryAfter(secs(30))
    );
    // A schedule is a floor's base like backoff, and the cap holds there too.
    let scheduled = RetryPolicy::schedule([secs(1)]).max_retry_after(secs(60));
    assert_eq!(
        scheduled.decide(1, &busy(secs(600))),
        Decision::RetryAfter(secs(60))
    );
    // A zero cap ignores Retry-After.
    let ignoring = p.max_retry_after(Duration::ZERO);
    let Decision::RetryAfter(wait) = ignoring.decide(1, &busy(secs(999))) else {
        panic!("not retried");
    };
    assert!(wait <= Duration::from_millis(1), "{wait:?}");
}

#[test]
fn retry_after_never_passes_the_deadline() {
    let secs = Duration::from_secs;
    let p = RetryPolicy::new(10, Duration::from_millis(1), Duration::from_millis(1))
        .give_up_after(secs(60));
    // 50 s old, asked to wait 30 s: the last attempt is made at the deadline.
    assert_eq!(
        p.decide_at_age(2, &busy(secs(30)), secs(50)),
        Decision::RetryAfter(secs(10))
    );
    // Within the deadline, the floor holds in full.
    assert_eq!(
        p.decide_at_age(2, &busy(secs(30)), secs(10)),
        Decision::RetryAfter(secs(30))
    );
    // Without an age (no deadline known), the floor holds in full too.
    assert_eq!(p.decide(2, &busy(secs(30))), Decision::RetryAfter(secs(30)));
    // The attempt budget still ends it.
    assert_eq!(
        p.decide_at_age(10, &busy(secs(1)), secs(1)),
        Decision::DeadLetter
    );
}

#[test]
fn panics_are_retried_and_not_dead_lettered_at_once() {
    let p = RetryPolicy::new(2, Duration::from_millis(1), Duration::from_millis(1));
    for kind in [FailureKind::TransformPanic, FailureKind::HandlerPanic] {
        let report = AttemptReport::Failed(kind);
        assert!(
            matches!(p.decide(1, &report), Decision::RetryAfter(_)),
            "{kind:?}"
        );
        assert_eq!(p.decide(2, &report), Decision::DeadLetter, "{kind:?}");
    }
}

#[test]
fn max_retry_after_is_a_setting() {
    use crate::deliver::destination::RetrySettings;
    let settings = |text: &str| RetrySettings {
        max_retry_after: Some(text.to_owned()),
        ..RetrySettings::default()
    };
    let policy = settings("90s").policy().expect("valid");
    assert_eq!(policy.max_retry_after, Duration::from_secs(90));
    assert_eq!(policy.backoff, RetryPolicy::default().backoff);
    let unset = RetrySettings::default().policy().expect("valid");
    assert_eq!(unset.max_retry_after, DEFAULT_MAX_RETRY_AFTER);
    let error = settings("a while").policy().expect_err("not a duration");
    assert_eq!(error.field, "max_retry_after");
    assert!(
        error.reason.contains("is not a duration"),
        "{}",
        error.reason
    );
}

fn busy(after: Duration) -> AttemptReport {
    AttemptReport::Response {
        status: 429,
        retry_after: Some(after),
    }
}
