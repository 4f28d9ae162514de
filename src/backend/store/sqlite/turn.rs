//! What the writer's thread is sent: writes, and turns at the write lock
//! (for a write through the pool, or the checkpointer's catch-up).

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

/// Told, after the commit, whether the transaction holding the write committed.
pub(super) type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One write: runs on the writer's connection, says whether it succeeded.
pub(super) type Op = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

/// What the writer's thread is sent.
pub(super) enum Msg {
    Write(Op),
    /// A [`Turn`]: told once the lock is free, then the writer waits until
    /// the second channel's sender (held by the turn) is dropped.
    Pause(oneshot::Sender<()>, mpsc::Receiver<()>),
}

/// The write lock left free, while this lives, for a write through the pool
/// or the checkpointer's catch-up (`checkpoint.rs`).
pub(crate) struct Turn {
    _release: mpsc::Sender<()>,
}

/// Queues a turn on `ops`: the turn, and what tells that it has come.
/// `None` once the writer has stopped.
pub(super) fn ask_turn(ops: &mpsc::Sender<Msg>) -> Option<(Turn, oneshot::Receiver<()>)> {
    let (granted, on_grant) = oneshot::channel();
    let (release, released) = mpsc::channel();
    ops.send(Msg::Pause(granted, released)).ok()?;
    Some((Turn { _release: release }, on_grant))
}
