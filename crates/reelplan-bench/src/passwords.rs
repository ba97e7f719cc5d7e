//! Password hashes of seeded users, computed fast.
//!
//! The server's default argon2id cost (19 MiB, 2 passes) takes tens of milliseconds per hash:
//! 50,000 of them would take longer than the whole rest of the seed. Seeded users therefore get
//! a documented cheap parameter set, [`SEED_COST`] (argon2id, m = 256 KiB, t = 1, p = 1), which
//! is fine for throw-away benchmark accounts and nothing else. Logins still work: verification
//! reads the parameters from the stored PHC string. Salts are derived from the seed and the user
//! id, so the same seed gives the same hashes. Hashing runs on every available core
//! (`std::thread::scope`).

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// `(memory KiB, passes, lanes)` of seeded users' hashes.
pub const SEED_COST: (u32, u32, u32) = (256, 1, 1);

fn hasher() -> Argon2<'static> {
    let (m, t, p) = SEED_COST;
    let params = Params::new(m, t, p, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC hash of `password` for user `id`, salt derived from `seed` and `id`.
pub fn hash_one(hasher: &Argon2<'_>, seed: u64, id: i64, password: &str) -> String {
    let mut bytes = [0u8; 16];
    StdRng::seed_from_u64(seed ^ (id as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
        .fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    hasher
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail here")
        .to_string()
}

/// Hashes every `(id, password)` on `threads` threads, in input order; `tick` is called once
/// per hash (for a progress bar).
pub fn hash_all(
    users: &[(i64, &str)],
    seed: u64,
    threads: usize,
    tick: &(dyn Fn() + Sync),
) -> Vec<String> {
    let threads = threads.max(1);
    let chunk = users.len().div_ceil(threads).max(1);
    let mut out = vec![String::new(); users.len()];
    std::thread::scope(|scope| {
        for (inputs, outputs) in users.chunks(chunk).zip(out.chunks_mut(chunk)) {
            scope.spawn(move || {
                let hasher = hasher();
                for ((id, password), slot) in inputs.iter().zip(outputs) {
                    *slot = hash_one(&hasher, seed, *id, password);
                    tick();
                }
            });
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    use super::*;

    #[test]
    fn cheap_hashes_verify_with_default_parameters_and_are_deterministic() {
        let users = [(1, "password1"), (2, "password2"), (3, "password3")];
        let hashes = hash_all(&users, 42, 2, &|| {});
        assert_eq!(hashes, hash_all(&users, 42, 1, &|| {}));
        assert!(hashes[0].starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        // The server verifies with its own (default-cost) hasher: parameters come from the hash.
        let server = Argon2::default();
        let parsed = PasswordHash::new(&hashes[1]).unwrap();
        assert!(server.verify_password(b"password2", &parsed).is_ok());
        assert!(server.verify_password(b"password1", &parsed).is_err());
    }
}
