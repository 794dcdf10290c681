//! Waiting out a refusal that the kernel gives only for a moment.
//!
//! Some calls are refused with `EBUSY` while a hold that is about to go away is on the object:
//! a process reading the pool (export, destroy of a pool), a background task of a filesystem
//! just unmounted (destroy of that filesystem). The caller should not see those, so such a
//! call is made again for a few seconds; a hold that stays is reported after that.

use std::time::{Duration, Instant};

/// How long a passing refusal is waited out.
pub(crate) const PASSING_WAIT: Duration = Duration::from_secs(5);

/// Calls `attempt` (told whether it is the first) again while `passing` says its outcome is a
/// passing refusal, for up to [`PASSING_WAIT`]: 10 ms after the first refusal, twice as long
/// after each next one, at most 500 ms. Returns the first other outcome, or the last refusal.
pub(crate) fn retry<T>(mut attempt: impl FnMut(bool) -> T, passing: impl Fn(&T) -> bool) -> T {
    let start = Instant::now();
    let mut delay = Duration::from_millis(10);
    let mut first = true;
    loop {
        let outcome = attempt(first);
        if !passing(&outcome) || start.elapsed() >= PASSING_WAIT {
            return outcome;
        }
        first = false;
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passing_refusal_is_retried_and_only_the_first_attempt_is_first() {
        let mut firsts = Vec::new();
        let out = retry(
            |first| {
                firsts.push(first);
                firsts.len()
            },
            |&n| n < 3,
        );
        assert_eq!(out, 3);
        assert_eq!(firsts, [true, false, false]);
    }

    #[test]
    fn another_outcome_is_returned_at_once() {
        let mut calls = 0;
        let out = retry(
            |_| {
                calls += 1;
                "refused for good"
            },
            |_| false,
        );
        assert_eq!((out, calls), ("refused for good", 1));
    }

    #[test]
    fn a_refusal_that_stays_is_returned_after_the_wait() {
        let start = Instant::now();
        let mut calls = 0;
        let out = retry(
            |_| {
                calls += 1;
                libc::EBUSY
            },
            |&rc| rc == libc::EBUSY,
        );
        assert_eq!(out, libc::EBUSY);
        assert!(start.elapsed() >= PASSING_WAIT);
        // 10, 20, ... 320 ms, then 500 ms steps: about 14 attempts in 5 s.
        assert!((10..=20).contains(&calls), "{calls} attempts");
    }
}
