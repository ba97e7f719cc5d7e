//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds the
//! `migrations/` folder at compile time and cannot see new files on its own.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
