//! Two instances' limiters reconciled through a table played in memory.

use super::*;
use std::time::Duration;

/// The table, played in memory: what two instances would see through PostgreSQL.
#[derive(Default)]
struct Table(HashMap<(String, i64, i64), (i64, i64)>);

impl Table {
    fn sync(&mut self, l: &SharedLimiter) {
        let out = l.take_outbox();
        for k in &out.resets {
            self.0.iter_mut().filter(|((key, ..), _)| key == k).for_each(|(_, v)| v.0 = 0);
        }
        for d in out.deltas {
            let v = self.0.entry((d.key, l.instance, d.slot_ms)).or_insert((0, d.window_ms));
            v.0 = (v.0 + d.events).max(0);
        }
        let rows = self.0.iter().map(|((key, instance, slot_ms), (events, window_ms))| Row {
            key: key.clone(),
            instance: *instance,
            slot_ms: *slot_ms,
            events: *events,
            window_ms: *window_ms,
        });
        l.apply(rows.collect());
    }
}

#[test]
fn two_instances_share_one_budget_after_a_sync() {
    let (a, b, mut table) = (SharedLimiter::new(), SharedLimiter::new(), Table::default());
    let (key, limit, now) = (LimitKey::ApiKey(7), Limit::per_minute(5), wall_ms());
    for n in 1..=3 {
        assert_eq!(a.count(&key, limit, now, true), Ok(n));
    }
    assert_eq!(b.count(&key, limit, now, true), Ok(1), "unsynced: b has seen nothing yet");
    table.sync(&a);
    table.sync(&b);
    table.sync(&a);
    assert_eq!(b.count(&key, limit, now + 10, true), Ok(5), "3 from a, 1 earlier and this one");
    let wait = b.count(&key, limit, now + 10, true).unwrap_err();
    assert!(wait.0 > Duration::from_secs(58) && wait.0 <= Duration::from_secs(60), "{wait:?}");
    table.sync(&b);
    table.sync(&a);
    assert!(a.count(&key, limit, now + 20, false).is_err(), "a sees b's events");
    assert!(a.count(&key, limit, now + 61_000, false).is_ok(), "the window slid past them");
}

#[test]
fn resets_and_releases_reach_the_other_instance() {
    let (a, b, mut table) = (SharedLimiter::new(), SharedLimiter::new(), Table::default());
    let (key, limit, now) = (LimitKey::SignInAccount("a@x.io".into()), Limit::per_minute(2), wall_ms());
    a.count(&key, limit, now, true).unwrap();
    a.count(&key, limit, now, true).unwrap();
    table.sync(&a);
    table.sync(&b);
    assert!(b.count(&key, limit, now, false).is_err());
    futures::executor::block_on(a.release(&key));
    table.sync(&a);
    table.sync(&b);
    assert_eq!(b.count(&key, limit, now, false), Ok(2), "one event taken back");
    futures::executor::block_on(b.reset(&key));
    table.sync(&b);
    table.sync(&a);
    assert_eq!(a.count(&key, limit, now, false), Ok(1), "reset everywhere");
}

#[test]
fn a_failed_write_keeps_the_events() {
    let (a, key, limit, now) = (SharedLimiter::new(), LimitKey::ApiKey(1), Limit::per_minute(2), wall_ms());
    a.count(&key, limit, now, true).unwrap();
    let out = a.take_outbox();
    assert_eq!(out.deltas.len(), 1);
    a.restore(out);
    a.count(&key, limit, now, true).unwrap();
    assert!(a.count(&key, limit, now, true).is_err());
    assert_eq!(a.take_outbox().deltas.iter().map(|d| d.events).sum::<i64>(), 2);
}

#[test]
fn a_zero_limit_counts_nothing_and_shares_nothing() {
    let (a, mut table) = (SharedLimiter::new(), Table::default());
    let (key, off, now) = (LimitKey::ApiKey(9), Limit::per_minute(0), wall_ms());
    for _ in 0..1000 {
        assert_eq!(a.count(&key, off, now, true), Ok(0), "0 turns the limit off, as docs/API.md says");
    }
    table.sync(&a);
    assert!(table.0.is_empty() && a.is_empty(), "nothing counted, nothing sent to the other instances");
}
