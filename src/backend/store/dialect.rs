//! Code written once for both dialects.

/// Compiles its body twice: once with `Db` standing for
/// [`SqliteStore`](super::SqliteStore), once for [`PgStore`](super::PgStore).
/// The body is ordinary code, usually an aggregate's trait impl, that reads
/// through `self.pool` and writes through `self.write_conn()` (both stores
/// have them, with the same meaning); what differs between the dialects is
/// not written here but in a plain impl per dialect.
macro_rules! both_dialects {
    ($($body:tt)*) => {
        const _: () = {
            type Db = $crate::backend::store::sqlite::SqliteStore;
            $($body)*
        };
        const _: () = {
            type Db = $crate::backend::store::postgres::PgStore;
            $($body)*
        };
    };
}
