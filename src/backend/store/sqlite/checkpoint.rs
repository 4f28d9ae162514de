//! SQLite's checkpointer: the WAL's pages moved into the database file beside
//! the writer's commits, and the WAL started over under a steady load.
//!
//! Every [`EVERY`] it copies what it can without waiting (PASSIVE). SQLite
//! starts the WAL over only at a commit that follows a checkpoint which caught
//! up with the whole WAL, and under a steady stream of commits a checkpoint
//! running beside them never does: the WAL grew for as long as the load
//! lasted (2.5–3 GB in the API benchmark's 30 s), each commit's pages going
//! to new blocks that the kernel allocated and zeroed. So once the WAL holds
//! more than [`START_OVER_AT`] frames, the checkpointer takes a turn at the
//! writer (`Writer::turn`): between two commits it copies the rest (what was
//! committed while the checkpoint before it ran), and the writer's next
//! commit writes the WAL from its start again, over pages already cached.

use std::sync::{mpsc, Weak};
use std::time::Duration;

use rusqlite::Connection;

use super::turn::{ask_turn, Msg};

/// How often the checkpointer moves the WAL's pages into the database file.
pub(super) const EVERY: Duration = Duration::from_millis(500);
/// WAL frames (a page each) past which the WAL is started over: 256 MB.
const START_OVER_AT: i64 = 65_536;
/// Frames the checkpoint may leave for the turn (16 MB): copied while every
/// write waits, so the catch-up runs beside the commits until this little
/// is left.
const LEAVE_FOR_TURN: i64 = 4_096;
/// Catch-up checkpoints beside the commits before the turn, at most.
const CATCH_UP_PASSES: usize = 4;

/// Every `every` until the last `Writer` is dropped (`alive`).
pub(super) fn run(conn: Connection, writer: mpsc::Sender<Msg>, alive: Weak<()>, every: Duration) {
    while alive.strong_count() > 0 {
        std::thread::sleep(every);
        match wal_checkpoint(&conn, "PASSIVE") {
            Ok((frames, _)) if frames > START_OVER_AT => start_over(&conn, &writer),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not checkpoint the SQLite WAL"),
        }
    }
}

/// Between two of the writer's commits: the rest of the WAL copied, so that
/// the next commit starts it over.
pub(super) fn start_over(conn: &Connection, writer: &mpsc::Sender<Msg>) {
    // Each checkpoint beside the commits leaves what was committed while it
    // ran; the first (in `run`) copied up to 256 MB, so it left much. Each
    // further pass is shorter and leaves less for the turn to copy.
    for _ in 0..CATCH_UP_PASSES {
        match wal_checkpoint(conn, "PASSIVE") {
            Ok((frames, copied)) if frames - copied > LEAVE_FOR_TURN => {}
            _ => break,
        }
    }
    let Some((_turn, granted)) = ask_turn(writer) else { return };
    // With no commit beside it, this one catches up with the whole WAL unless
    // a reader still holds an older snapshot (then at a later turn). It does
    // not wait for readers: a turn holds up every write.
    if granted.blocking_recv().is_ok() {
        let held = std::time::Instant::now();
        match wal_checkpoint(conn, "PASSIVE") {
            Ok((frames, copied)) => {
                let held_ms = held.elapsed().as_millis() as u64;
                tracing::debug!(frames, copied, held_ms, "SQLite WAL started over (writes waited meanwhile)");
            }
            Err(e) => tracing::warn!(error = %e, "could not start the SQLite WAL over"),
        }
    }
}

/// Runs a checkpoint in `mode`; the frames the WAL holds, and how many of
/// them are in the database file now.
fn wal_checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| Ok((row.get(1)?, row.get(2)?)))
}
