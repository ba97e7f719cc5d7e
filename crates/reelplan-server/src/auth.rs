//! Passwords (argon2id) and bearer tokens (HS256 JWTs carrying the user id, with expiry).
//!
//! Each hash takes the configured memory (19 MiB by default) and a blocking thread for its
//! whole run, so hashes run in a fixed number of slots (`REELPLAN_MAX_CONCURRENT_HASHES`):
//! a signup or login that finds them all busy answers 503 `unavailable` with `Retry-After` at
//! once instead of queueing. The slot is held by the hash itself, not by the request: a hash
//! whose request timed out or went away (a blocking task cannot be cancelled) still occupies
//! its slot until it ends, so a flood can never have more hashes in memory than there are
//! slots. Each slot hashes in a memory buffer kept for reuse, so memory stays at the slots'
//! worth even where the allocator would keep every freed 19 MiB block for itself (glibc
//! raises its mmap threshold after the first free, and then retains such blocks per arena).
//!
//! A token's signature is checked once: the tokens verified lately are remembered with their
//! user and expiry ([`VERIFIED_TOKENS`] of them), and a token seen again is only checked
//! against its expiry. Decoding and checking a token had been 7% of the server's time on a
//! cache hit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher, PasswordVerifier, Version};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use reelplan_domain::UserId;
use serde::{Deserialize, Serialize};

use crate::config::PasswordCost;
use crate::error::ApiError;

/// Signs and checks tokens; hashes and verifies passwords.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    token_ttl: Duration,
    hasher: Argon2<'static>,
    dummy_hash: String,
    hash_slots: Arc<Semaphore>,
    max_hashes: usize,
    /// Hashing memory kept for reuse: at most one buffer per slot.
    memory: std::sync::Mutex<Vec<Vec<Block>>>,
    validation: Validation,
    /// Tokens whose signature was checked, with their user and expiry (Unix seconds).
    verified: moka::sync::Cache<Box<str>, (UserId, i64)>,
}

/// How many verified tokens are remembered (a few hundred bytes each).
const VERIFIED_TOKENS: u64 = 10_000;

const HASHES_BUSY: ApiError =
    ApiError::Busy("every password check is busy right now; try again shortly");

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

impl Auth {
    /// From the signing secret, the token lifetime, the password cost and the number of
    /// hashes that may run at once (0 is taken as 1).
    pub fn new(
        secret: &[u8],
        token_ttl: Duration,
        cost: PasswordCost,
        max_hashes: usize,
    ) -> anyhow::Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| anyhow::anyhow!("bad argon2 parameters: {e}"))?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = hasher
            .hash_password(b"no user has this password", &salt)
            .map_err(|e| anyhow::anyhow!("cannot hash: {e}"))?
            .to_string();
        Ok(Auth {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            token_ttl,
            hasher,
            dummy_hash,
            hash_slots: Arc::new(Semaphore::new(max_hashes.max(1))),
            max_hashes: max_hashes.max(1),
            memory: std::sync::Mutex::default(),
            validation: {
                let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
                validation.leeway = 0;
                validation
            },
            verified: moka::sync::Cache::new(VERIFIED_TOKENS),
        })
    }

    /// A token for `user`, valid for the configured lifetime.
    pub fn issue(&self, user: UserId) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user.0.to_string(),
            iat: now,
            exp: now + self.token_ttl.as_secs() as i64,
        };
        jsonwebtoken::encode(&Header::default(), &claims, &self.encoding).map_err(|error| {
            tracing::error!(%error, "cannot sign a token");
            ApiError::Internal
        })
    }

    /// The user a token was issued to, if it is ours and not expired.
    pub fn verify(&self, token: &str) -> Result<UserId, ApiError> {
        const REFUSED: ApiError = ApiError::Unauthenticated("invalid or expired token");
        let now = chrono::Utc::now().timestamp();
        if let Some((user, expiry)) = self.verified.get(token) {
            // As the decoder's check with no leeway: expired once `exp` is in the past.
            return if expiry >= now { Ok(user) } else { Err(REFUSED) };
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| REFUSED)?
            .claims;
        let user = claims.sub.parse().map(UserId).map_err(|_| REFUSED)?;
        self.verified.insert(token.into(), (user, claims.exp));
        Ok(user)
    }

    /// Hashes running right now, including those whose request is gone (for tests and the
    /// dashboard).
    pub fn hashes_in_flight(&self) -> usize {
        self.max_hashes - self.hash_slots.available_permits()
    }

    /// A hashing slot, or 503 at once when all are busy.
    fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.hash_slots.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("reelplan_password_hash_busy_total").increment(1);
            HASHES_BUSY
        })
    }

    /// A PHC-format hash of `password`, in a hashing slot (503 when none is free). Slow by
    /// design: runs off the async threads.
    pub async fn hash_password(self: &Arc<Self>, password: String) -> Result<String, ApiError> {
        let this = Arc::clone(self);
        let slot = self.slot()?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let salt = SaltString::generate(&mut OsRng);
            let output = this.with_memory(|blocks| this.output(password.as_bytes(), &salt, blocks));
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(this.hasher.params())?,
                salt: Some(salt.as_salt()),
                hash: Some(output?),
            };
            Ok::<_, argon2::password_hash::Error>(hash.to_string())
        })
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ApiError::Internal)
    }

    /// Runs `f` with a hashing buffer of the configured size, taken from the kept ones (or
    /// allocated the first time) and kept again afterwards.
    fn with_memory<R>(&self, f: impl FnOnce(&mut [Block]) -> R) -> R {
        let kept = self.memory.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let size = self.hasher.params().block_count();
        let mut blocks = kept.unwrap_or_else(|| vec![Block::default(); size]);
        let result = f(&mut blocks);
        self.memory.lock().unwrap_or_else(|e| e.into_inner()).push(blocks);
        result
    }

    /// The argon2 output of `password` with `salt` and the configured parameters.
    fn output(
        &self,
        password: &[u8],
        salt: &SaltString,
        blocks: &mut [Block],
    ) -> argon2::password_hash::Result<Output> {
        let mut salt_bytes = [0u8; 64];
        let salt = salt.as_salt().decode_b64(&mut salt_bytes)?;
        let length = self.hasher.params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        Output::init_with(length, |out| {
            self.hasher
                .hash_password_into_with_memory(password, salt, out, &mut *blocks)
                .map_err(Into::into)
        })
    }

    /// Whether `password` matches the parsed `hash`: in a kept buffer when the hash has the
    /// configured algorithm and cost (every hash this server wrote), else the allocating way.
    fn matches(&self, password: &[u8], hash: &PasswordHash<'_>) -> bool {
        let ours = hash.algorithm == Algorithm::Argon2id.ident()
            && hash.version == Some(Version::V0x13.into())
            && Params::try_from(hash).is_ok_and(|p| same_cost(&p, self.hasher.params()));
        let (Some(salt), Some(expected), true) = (hash.salt, hash.hash, ours) else {
            return self.hasher.verify_password(password, hash).is_ok();
        };
        let Ok(salt) = SaltString::from_b64(salt.as_str()) else { return false };
        // Output's equality is constant-time.
        self.with_memory(|blocks| self.output(password, &salt, blocks))
            .is_ok_and(|computed| computed == expected)
    }

    /// A hash no password matches, with the configured cost: verified against when a login
    /// names an unknown email, so that its answer takes as long as a wrong password's.
    pub fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }

    /// Whether `password` matches `hash` (constant-time comparison inside argon2), in a
    /// hashing slot (503 when none is free).
    pub async fn verify_password(
        self: &Arc<Self>,
        password: String,
        hash: String,
    ) -> Result<bool, ApiError> {
        let this = Arc::clone(self);
        let slot = self.slot()?;
        Ok(tokio::task::spawn_blocking(move || {
            let _slot = slot;
            PasswordHash::new(&hash)
                .map(|parsed| this.matches(password.as_bytes(), &parsed))
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false))
    }
}

/// Whether hashes of parameters `a` can be computed with `b` (and so in its kept buffers).
fn same_cost(a: &Params, b: &Params) -> bool {
    let length = |p: &Params| p.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    (a.m_cost(), a.t_cost(), a.p_cost(), length(a))
        == (b.m_cost(), b.t_cost(), b.p_cost(), length(b))
        && a.data().is_empty()
        && a.keyid().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cost(memory_kib: u32) -> Arc<Auth> {
        let cost = PasswordCost { memory_kib, iterations: 1, parallelism: 1 };
        Arc::new(Auth::new(&[7; 32], Duration::from_secs(60), cost, 2).unwrap())
    }

    /// Hashes made in kept buffers are standard PHC argon2id strings, both ways round.
    #[tokio::test]
    async fn reused_buffers_hash_and_verify_like_argon2() {
        let auth = with_cost(64);
        let hash = auth.hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(auth.verify_password("correct horse".into(), hash.clone()).await.unwrap());
        assert!(!auth.verify_password("wrong horse".into(), hash.clone()).await.unwrap());
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(auth.hasher.verify_password(b"correct horse", &parsed).is_ok(), "argon2 agrees");
        // A hash of another cost (an older configuration) still verifies, the allocating way.
        let other = with_cost(128).hash_password("battery".into()).await.unwrap();
        assert!(auth.verify_password("battery".into(), other.clone()).await.unwrap());
        assert!(!auth.verify_password("staple".into(), other).await.unwrap());
        assert!(auth.memory.lock().unwrap().len() <= 2, "at most one buffer per slot");
    }

    /// A token is checked once, then remembered until it expires: a remembered token is
    /// refused once past its expiry, and a token with a forged signature is never remembered.
    #[test]
    fn a_verified_token_is_remembered_until_it_expires() {
        let cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
        let auth = Auth::new(&[7; 32], Duration::from_secs(1), cost, 1).unwrap();
        let token = auth.issue(UserId(42)).unwrap();
        assert_eq!(auth.verify(&token).unwrap(), UserId(42));
        assert!(auth.verified.contains_key(token.as_str()), "remembered");
        assert_eq!(auth.verify(&token).unwrap(), UserId(42), "from memory");

        let (body, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{body}.{flipped}{}", &signature[1..]);
        assert!(auth.verify(&forged).is_err());
        assert!(!auth.verified.contains_key(forged.as_str()), "a forgery is not remembered");

        // `exp` is whole seconds, 1 s after issue: past it within 2 s.
        std::thread::sleep(Duration::from_millis(2100));
        assert!(auth.verify(&token).is_err(), "expired, though remembered");
        assert!(with_cost(64).verify(&token).is_err(), "and expired for the decoder too");
    }

    /// With every slot taken, a hash answers 503 at once.
    #[tokio::test]
    async fn a_full_set_of_slots_answers_busy() {
        let auth = with_cost(64);
        let held: Vec<_> = (0..2).map(|_| auth.slot().unwrap()).collect();
        assert_eq!(auth.hashes_in_flight(), 2);
        let refused = auth.hash_password("x".repeat(8)).await.unwrap_err();
        assert_eq!(refused.code(), crate::error::ErrorCode::Unavailable);
        drop(held);
        assert!(auth.hash_password("x".repeat(8)).await.is_ok());
    }
}
