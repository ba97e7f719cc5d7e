//! The one error type of the storage layer.

/// What can go wrong below the service layer, in terms the service can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row a statement needed does not exist (or vanished meanwhile).
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write.
    #[error("conflict on {constraint}")]
    Conflict {
        /// The constraint (PostgreSQL) or the columns (SQLite) that refused it.
        constraint: String,
    },
    /// The database cannot be reached or did not answer in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken invariant. Logged, never shown to a client.
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::Conflict {
                    constraint: db.constraint().unwrap_or(db.message()).to_owned(),
                },
                // A parent row deleted under a concurrent write: the thing is gone.
                ErrorKind::ForeignKeyViolation => StoreError::NotFound,
                _ if is_unavailable_code(db.code().as_deref()) => {
                    StoreError::Unavailable(db.message().to_owned())
                }
                _ => StoreError::Other(error.to_string()),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            _ => StoreError::Other(error.to_string()),
        }
    }
}

/// PostgreSQL codes that mean "not now" rather than "never": shutdown, too many connections,
/// statement timeout; SQLite's busy and locked.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "53300" | "57014" | "08006" | "08001" | "5" | "6")
    )
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(format!("migration failed: {error}"))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Other(format!("unreadable row document: {error}"))
    }
}
