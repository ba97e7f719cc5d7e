//! The object store behind project files and the feedback video, through the `object_store`
//! crate: a local folder (`<data_dir>/objects`) by default, an S3-compatible bucket when
//! configured with `s3://bucket/prefix`.
//!
//! Objects are keyed by opaque random ids ([`Objects::new_key`]), never by the names users
//! give, so a name can neither escape the folder nor collide. Uploads stream: a body that ends
//! within one part goes up in one PUT, a longer one as a multipart upload with a bounded number
//! of parts in flight, so memory stays at a few parts whatever the size. The object appears
//! only once complete (the local store writes to a staging file and renames it; S3 completes
//! the multipart upload), and an upload cut off (over the limit, body error) is aborted, so
//! nothing is left behind.

use std::fmt::Display;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    GetOptions, GetRange, GetResultPayload, ObjectStore, PutPayload, WriteMultipart,
};

use crate::config::ObjectsConfig;

/// Size of one multipart part (S3's minimum is 5 MiB), and the most a small upload buffers
/// before it switches from one PUT to a multipart upload.
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts uploading at once: bounds an upload's memory to about `(this + 1) * PART_BYTES`.
const PARTS_IN_FLIGHT: usize = 2;
/// Chunk size of local-file downloads (object_store's own local stream reads 8 KiB at a time,
/// one blocking task each, which caps throughput).
const READ_CHUNK: usize = 256 * 1024;

/// Why an upload did not complete. In every case nothing is left in the store.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The body went over the limit; the upload was cut off.
    #[error("the upload is larger than the limit")]
    TooLarge,
    /// The request body failed (the client went away or sent a broken body).
    #[error("the request body failed: {0}")]
    Body(String),
    /// The object store failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
}

/// A download: the bytes of the requested range, as a stream.
pub struct Download {
    /// The byte range of the object this stream carries.
    pub range: Range<u64>,
    /// The bytes.
    pub stream: BoxStream<'static, Result<Bytes, object_store::Error>>,
}

/// The object store handle with the upload limit. Cheap to clone.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    max_upload_bytes: u64,
    description: String,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("store", &self.description)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .finish()
    }
}

impl Objects {
    /// Opens the configured store: S3 for `s3://bucket/prefix`, a folder for `file:///path`,
    /// else `<data_dir>/objects`. Does no network I/O.
    pub fn open(config: &ObjectsConfig, data_dir: &Path) -> anyhow::Result<Objects> {
        let max = config.max_upload_bytes;
        match config.url.as_deref() {
            None | Some("") => Objects::local(&data_dir.join("objects"), max),
            Some(url) if url.starts_with("s3://") => Objects::s3(url, max),
            Some(url) if url.starts_with("file://") => {
                Objects::local(Path::new(&url["file://".len()..]), max)
            }
            Some(url) => {
                anyhow::bail!(
                    "REELPLAN_OBJECT_STORE must be s3://bucket/prefix or file:///path, not {url:?}"
                )
            }
        }
    }

    /// A folder on the local disk (created when missing).
    pub fn local(dir: &Path, max_upload_bytes: u64) -> anyhow::Result<Objects> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the object folder {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("cannot open the object folder {}", dir.display()))?;
        Ok(Objects {
            store: Arc::new(store),
            max_upload_bytes,
            description: format!("file://{}", dir.display()),
        })
    }

    /// An S3-compatible bucket, `s3://bucket/optional/prefix`; credentials, region and
    /// endpoint come from the `AWS_*` environment variables (`AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP=true` for a plain-HTTP emulator).
    pub fn s3(url: &str, max_upload_bytes: u64) -> anyhow::Result<Objects> {
        let rest = url.strip_prefix("s3://").context("an S3 URL starts with s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "REELPLAN_OBJECT_STORE names no bucket: {url:?}");
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .with_context(|| format!("cannot configure the S3 store {url}"))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
        Ok(Objects { store, max_upload_bytes, description: url.to_owned() })
    }

    /// Where the objects live, for logs.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The upload limit in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes
    }

    /// A fresh opaque key: 128 random bits in hex, under a two-character fan-out folder so no
    /// local folder grows too large.
    pub fn new_key() -> String {
        let id = format!("{:032x}", rand::random::<u128>());
        format!("{}/{id}", &id[..2])
    }

    /// Streams `body` into the object `key`, refusing it past `limit` bytes; returns the size.
    /// On any error the partial object is aborted, so nothing is left behind.
    pub async fn upload<S, E>(&self, key: &str, body: S, limit: u64) -> Result<u64, UploadError>
    where
        S: futures::Stream<Item = Result<Bytes, E>> + Send,
        E: Display,
    {
        let path = ObjectPath::from(key);
        let mut body = std::pin::pin!(body);
        let mut size: u64 = 0;
        let mut count = |chunk: &Bytes| {
            size += chunk.len() as u64;
            if size > limit {
                Err(UploadError::TooLarge)
            } else {
                Ok(size)
            }
        };

        // Up to one part: buffered, then one PUT (one request instead of three on S3).
        let mut head = Vec::new();
        let mut buffered = 0;
        while buffered < PART_BYTES {
            match body.next().await {
                None => {
                    let total = buffered as u64;
                    self.store.put(&path, PutPayload::from_iter(head)).await?;
                    return Ok(total);
                }
                Some(Err(error)) => return Err(UploadError::Body(error.to_string())),
                Some(Ok(chunk)) => {
                    count(&chunk)?;
                    buffered += chunk.len();
                    head.push(chunk);
                }
            }
        }

        // Longer: a multipart upload, at most PARTS_IN_FLIGHT parts uploading while the next
        // one fills (the body is not read meanwhile: back pressure to the client).
        let upload = self.store.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        for chunk in head {
            writer.put(chunk);
        }
        let mut total = buffered as u64;
        let outcome = loop {
            match body.next().await {
                None => break Ok(()),
                Some(Err(error)) => break Err(UploadError::Body(error.to_string())),
                Some(Ok(chunk)) => {
                    total = match count(&chunk) {
                        Ok(total) => total,
                        Err(error) => break Err(error),
                    };
                    if let Err(error) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                        break Err(error.into());
                    }
                    writer.put(chunk);
                }
            }
        };
        match outcome {
            Ok(()) => {
                writer.finish().await?;
                Ok(total)
            }
            Err(error) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key, error = %abort, "could not abort a cut-off upload");
                }
                Err(error)
            }
        }
    }

    /// Opens `range` (the whole object when None) of the object `key` as a stream.
    pub async fn download(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<Download, object_store::Error> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = self.store.get_opts(&ObjectPath::from(key), options).await?;
        let range = result.range.clone();
        let stream = match result.payload {
            GetResultPayload::File(file, path) => read_file(file, path, range.clone()),
            GetResultPayload::Stream(stream) => stream,
        };
        Ok(Download { range, stream })
    }

    /// Removes the object `key`; one that is already gone counts as removed.
    pub async fn delete(&self, key: &str) -> Result<(), object_store::Error> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Removes every object in `keys` after their rows are gone. Never fails: an object that
    /// cannot be removed is logged with its key, for a sweep, and the user is not held up.
    pub async fn delete_all(&self, keys: Vec<String>) {
        let paths = futures::stream::iter(keys.into_iter().map(|k| Ok(ObjectPath::from(k))));
        let mut results = self.store.delete_stream(paths.boxed());
        while let Some(result) = results.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => {
                    metrics::counter!("reelplan_object_delete_failures_total").increment(1);
                    tracing::error!(%error, "could not remove an object; left for a sweep");
                }
            }
        }
    }

    /// Removes `key`, logging (never failing) when it cannot: for objects whose rows are gone.
    pub async fn delete_or_log(&self, key: &str) {
        if let Err(error) = self.delete(key).await {
            metrics::counter!("reelplan_object_delete_failures_total").increment(1);
            tracing::error!(key, %error, "could not remove an object; left for a sweep");
        }
    }

    /// Whether the object `key` exists (for tests and tools).
    pub async fn exists(&self, key: &str) -> Result<bool, object_store::Error> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Every key in the store (for tests and tools: only the sweep lists it while serving).
    pub async fn keys(&self) -> Result<Vec<String>, object_store::Error> {
        self.listing().map_ok(|(key, _)| key).try_collect().await
    }

    /// Every object's key with the time it was last written, as the store lists them.
    pub fn listing(
        &self,
    ) -> impl futures::Stream<Item = Result<(String, std::time::SystemTime), object_store::Error>>
    {
        self.store.list(None).map_ok(|meta| (meta.location.to_string(), meta.last_modified.into()))
    }
}

/// Streams `range` of a local file in [`READ_CHUNK`] pieces, each read on the blocking pool.
fn read_file(
    file: std::fs::File,
    path: std::path::PathBuf,
    range: Range<u64>,
) -> BoxStream<'static, Result<Bytes, object_store::Error>> {
    let state = (Some(file), range.start, range.end);
    futures::stream::try_unfold(state, move |(file, position, end)| {
        let path = path.clone();
        async move {
            let Some(mut file) = file.filter(|_| position < end) else { return Ok(None) };
            let want = usize::try_from(end - position).unwrap_or(READ_CHUNK).min(READ_CHUNK);
            let read = tokio::task::spawn_blocking(move || {
                let mut buffer = vec![0; want];
                file.seek(SeekFrom::Start(position))?;
                file.read_exact(&mut buffer)?;
                Ok::<_, std::io::Error>((file, buffer))
            })
            .await;
            let failed =
                |source: Box<dyn std::error::Error + Send + Sync>| object_store::Error::Generic {
                    store: "local",
                    source: format!("{}: {source}", path.display()).into(),
                };
            let (file, buffer) = match read {
                Ok(Ok(done)) => done,
                Ok(Err(error)) => return Err(failed(error.into())),
                Err(error) => return Err(failed(error.into())),
            };
            let next = position + buffer.len() as u64;
            Ok(Some((Bytes::from(buffer), (Some(file), next, end))))
        }
    })
    .boxed()
}
