//! Passwords (argon2id) and bearer tokens (HS256 JWTs carrying the user id, with expiry).

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use reelplan_domain::UserId;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy)]
pub struct PasswordCost {
    /// Memory in KiB (default 19,456: OWASP's recommendation).
    pub memory_kib: u32,
    /// Passes (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        PasswordCost { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

/// Signs and checks tokens; hashes and verifies passwords.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    token_ttl: Duration,
    hasher: Argon2<'static>,
    dummy_hash: String,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

impl Auth {
    /// From the signing secret, the token lifetime and the password cost.
    pub fn new(secret: &[u8], token_ttl: Duration, cost: PasswordCost) -> anyhow::Result<Self> {
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
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| ApiError::Unauthenticated("invalid or expired token"))?;
        data.claims
            .sub
            .parse()
            .map(UserId)
            .map_err(|_| ApiError::Unauthenticated("invalid or expired token"))
    }

    /// A PHC-format hash of `password`. Slow by design: run it off the async threads.
    pub async fn hash_password(self: &Arc<Self>, password: String) -> Result<String, ApiError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            this.hasher.hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ApiError::Internal)
    }

    /// A hash no password matches, with the configured cost: verified against when a login
    /// names an unknown email, so that its answer takes as long as a wrong password's.
    pub fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }

    /// Whether `password` matches `hash` (constant-time comparison inside argon2).
    pub async fn verify_password(self: &Arc<Self>, password: String, hash: String) -> bool {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| this.hasher.verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}
