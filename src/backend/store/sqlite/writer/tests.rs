//! The writer's turns: their order against the writes queued around them,
//! and the checkpointer's turn that starts the WAL over.

use super::*;

/// A fresh database file with one table, and the writer on it (whose own
/// checkpointer does not run during a test).
fn start() -> (std::path::PathBuf, Writer) {
    let file = std::env::temp_dir().join(format!("imgflush-writer-{}.db", uuid::Uuid::new_v4()));
    let conn = Connection::open(&file).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL)").unwrap();
    let writer = Writer::start_with(&file, Duration::from_secs(3600)).unwrap();
    (file, writer)
}

fn remove(file: &Path) {
    for end in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{end}", file.display()));
    }
}

fn insert(c: &Connection, n: i64) -> StoreResult<()> {
    c.execute("INSERT INTO t (n) VALUES (?1)", [n]).map(drop).map_err(sqlite_error)
}

/// A write of `n` that keeps the writer busy for `ms` after it.
fn hold(writer: &Writer, n: i64, ms: u64) -> tokio::task::JoinHandle<StoreResult<()>> {
    let writer = writer.clone();
    tokio::spawn(async move {
        writer
            .write(move |c| {
                insert(c, n)?;
                std::thread::sleep(Duration::from_millis(ms));
                Ok(())
            })
            .await
    })
}

/// The writer's order, with a connection that never waits for the lock.
fn rows(file: &Path) -> Vec<i64> {
    let c = Connection::open(file).unwrap();
    let mut q = c.prepare("SELECT n FROM t ORDER BY rowid").unwrap();
    q.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_finds_the_lock_free_between_the_writes_before_and_after_it() {
    let (file, writer) = start();
    // The writer holds the lock for a while with the first write.
    let first = hold(&writer, 1, 300);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let queued = writer.clone();
    let turn = tokio::spawn(async move { queued.turn().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after = writer.clone();
    let second = tokio::spawn(async move { after.write(|c| insert(c, 2)).await });
    let turn = turn.await.unwrap().unwrap();
    // Granted once the write before it committed; the one after it waits.
    assert_eq!(rows(&file), vec![1]);
    let c = Connection::open(&file).unwrap();
    c.busy_timeout(Duration::ZERO).unwrap();
    c.execute("INSERT INTO t (n) VALUES (3)", []).expect("the lock is free during a turn");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rows(&file), vec![1, 3], "no write of the writer's during the turn");
    drop(turn);
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(rows(&file), vec![1, 3, 2]);
    remove(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_given_up_before_it_came_does_not_hold_the_writer() {
    let (file, writer) = start();
    let first = hold(&writer, 1, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::time::timeout(Duration::from_millis(10), writer.turn()).await.is_err());
    let next = tokio::time::timeout(Duration::from_secs(5), writer.write(|c| insert(c, 2))).await;
    next.expect("the writer went on").unwrap();
    first.await.unwrap().unwrap();
    assert_eq!(rows(&file), vec![1, 2]);
    remove(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpointers_turn_starts_the_wal_over() {
    let (file, writer) = start();
    let wal_bytes = || std::fs::metadata(format!("{}-wal", file.display())).unwrap().len();
    let checkpoints = Connection::open(&file).unwrap();
    let commits = |from: i64, n: i64| {
        let writer = writer.clone();
        async move {
            for i in from..from + n {
                writer.write(move |c| insert(c, i)).await.unwrap();
            }
        }
    };
    commits(0, 20).await;
    // A reader holding an older snapshot keeps a checkpoint from catching up,
    // as commits made beside a checkpoint do under a steady load.
    let reader = Connection::open(&file).unwrap();
    reader.execute_batch("BEGIN; SELECT count(*) FROM t;").unwrap();
    commits(20, 20).await;
    checkpoints.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).unwrap();
    reader.execute_batch("COMMIT").unwrap();
    commits(40, 1).await;
    let grown = wal_bytes();
    commits(41, 1).await;
    assert!(wal_bytes() > grown, "without a checkpoint that caught up, each commit appends to the WAL");
    let grown = wal_bytes();

    let pauses = writer.ops.clone();
    tokio::task::spawn_blocking(move || super::checkpoint::start_over(&checkpoints, &pauses)).await.unwrap();
    commits(42, 3).await;
    assert_eq!(wal_bytes(), grown, "the commits after the turn wrote the WAL from its start");
    assert_eq!(rows(&file), (0..45).collect::<Vec<_>>());
    remove(&file);
}
