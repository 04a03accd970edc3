//! What produced a set of per-window scores, as Studio tells it, and keeping scores under
//! it (docs/cache.md): the impulse's definition as served, when each learn block's model
//! was trained, and the project's last modification date.
//!
//! Every read here is bounded in time: what produced the scores that cannot be told within
//! a few seconds is unknown, and unknown only costs a preview while Studio withholds its
//! results; it never delays Studio's own results or a save.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use tokio::task::JoinHandle;

use crate::api::StudioClient;
use crate::api::models::{Impulse, ImpulseLearnBlock};
use crate::cache::{CacheKey, Provenance, ResultsCache, Validator};
use crate::metrics::TestSet;

/// The longest a read of what produced the scores may take.
const WAIT: Duration = Duration::from_secs(5);
/// Learn blocks whose model dates are read at once.
const MODEL_READS_IN_FLIGHT: usize = 4;
/// The longest date taken: Studio's are 24 characters.
const MAX_DATE_CHARS: usize = 64;

/// A date as the server sent it, if it can be one: short, printable, and no credential
/// echoed back (it is written to disk).
fn plausible(client: &StudioClient, date: String) -> Option<String> {
    let fits = !date.is_empty()
        && date.len() <= MAX_DATE_CHARS
        && date.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && !client.mentions_secret(&date);
    if !fits {
        tracing::debug!("a date that cannot be one: what produced the scores is unknown");
    }
    fits.then_some(date)
}

/// The project's last modification date now, if Studio tells it within [`WAIT`].
pub async fn data_date(client: &StudioClient, project: u64) -> Option<String> {
    let read = tokio::time::timeout(WAIT, client.last_modification(project)).await;
    match read {
        Ok(Ok(Some(date))) => plausible(client, date),
        Ok(Ok(None)) => None,
        Ok(Err(e)) => {
            tracing::debug!("the project's modification date is unknown: {e}");
            None
        }
        Err(_) => {
            tracing::debug!("the project's modification date did not come in time");
            None
        }
    }
}

/// When each learn block's model was trained, if Studio tells all of it within [`WAIT`].
async fn models_trained(
    client: &StudioClient,
    project: u64,
    blocks: Vec<ImpulseLearnBlock>,
) -> Option<Vec<(u64, String)>> {
    let read = futures::stream::iter(blocks)
        .map(|block| async move {
            let trained = client.model_trained(project, &block).await;
            trained.map(|date| (block.id, date))
        })
        .buffered(MODEL_READS_IN_FLIGHT)
        .collect::<Vec<_>>();
    let Ok(read) = tokio::time::timeout(WAIT, read).await else {
        tracing::debug!("the models' training dates did not come in time");
        return None;
    };
    read.into_iter()
        .map(|trained| match trained {
            Ok((block, date)) => Some((block, plausible(client, date)?)),
            Err(e) => {
                tracing::debug!("a model's training date is unknown: {e}");
                None
            }
        })
        .collect()
}

/// What produced the scores Studio serves for `impulse` now: its definition read again
/// with the rest.
pub async fn now(client: &StudioClient, project: u64, impulse: u64) -> Option<Provenance> {
    let definition = async {
        tokio::time::timeout(WAIT, client.get_impulse_served(project, impulse))
            .await
            .ok()?
            .ok()
    };
    let (definition, data) = futures::join!(definition, data_date(client, project));
    let (impulse, definition) = definition?;
    let models = models_trained(client, project, impulse.learn_blocks).await?;
    Some(Provenance {
        definition,
        models,
        data: data?,
    })
}

/// A value read on a task of its own, awaited where it is needed (and again after).
enum Slot<T> {
    Reading(JoinHandle<Option<T>>),
    Read(Option<T>),
}

impl<T: Clone + Send + 'static> Slot<T> {
    fn spawn(read: impl std::future::Future<Output = Option<T>> + Send + 'static) -> Self {
        Self::Reading(tokio::spawn(read))
    }

    /// The value, once read; the wait may be dropped and taken up again.
    async fn get(&mut self) -> Option<T> {
        if let Self::Reading(task) = self {
            let value = task.await.ok().flatten();
            *self = Self::Read(value);
        }
        match self {
            Self::Read(value) => value.clone(),
            Self::Reading(_) => None,
        }
    }
}

/// What produced the scores being read, asked for beside them: the project's date before
/// the first page, the models' dates as soon as the impulse is known.
pub struct Before {
    data: Slot<String>,
    models: Option<Slot<Vec<(u64, String)>>>,
    definition: Option<String>,
    known: Option<Option<Provenance>>,
}

impl Before {
    /// Asks for the project's date now.
    pub fn start(client: &StudioClient, project: u64) -> Self {
        let client = client.clone();
        Self {
            data: Slot::spawn(async move { data_date(&client, project).await }),
            models: None,
            definition: None,
            known: None,
        }
    }

    /// The impulse was read (`definition`: the digest of it as served): asks for its
    /// models' dates.
    pub fn impulse_known(
        &mut self,
        client: &StudioClient,
        project: u64,
        impulse: &Impulse,
        definition: String,
    ) {
        let (client, blocks) = (client.clone(), impulse.learn_blocks.clone());
        self.models = Some(Slot::spawn(async move {
            models_trained(&client, project, blocks).await
        }));
        self.definition = Some(definition);
    }

    pub fn is_read(&self) -> bool {
        self.known.is_some()
    }

    /// What produced the scores (`None`: unknown), once read.
    pub async fn get(&mut self) -> Option<Provenance> {
        if let Some(known) = &self.known {
            return known.clone();
        }
        let data = self.data.get().await;
        let models = match &mut self.models {
            Some(models) => models.get().await,
            None => None,
        };
        let known = match (data, models, &self.definition) {
            (Some(data), Some(models), Some(definition)) => Some(Provenance {
                definition: definition.clone(),
                models,
                data,
            }),
            _ => None,
        };
        self.known = Some(known.clone());
        known
    }
}

/// A set read whole from Studio, to keep once what produced it is known not to have
/// changed while it was read.
pub struct ToKeep {
    pub(crate) key: CacheKey,
    pub(crate) validator: Validator,
    pub(crate) project: u64,
    pub(crate) impulse: u64,
    pub(crate) before: Before,
    pub(crate) set: Arc<TestSet>,
    pub(crate) read_at: SystemTime,
}

impl std::fmt::Debug for ToKeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToKeep").field("key", &self.key).finish()
    }
}

/// Keeps a set read whole: under what produced it, when that was the same before the
/// first page and after the last (otherwise it may mix two models' scores, and is not
/// kept); when that is unknown, for the same first page only. A cache that cannot be
/// written costs the next start its head start, nothing more.
pub async fn keep(client: &StudioClient, cache: &ResultsCache, to_keep: ToKeep) {
    let ToKeep {
        key,
        validator,
        project,
        impulse,
        mut before,
        set,
        read_at,
    } = to_keep;
    let provenance = before.get().await;
    if provenance.is_some() && now(client, project, impulse).await != provenance {
        tracing::info!("the model, data or impulse changed while the scores were read: not kept");
        return;
    }
    let cache = cache.clone();
    let dir = cache.dir().map(|d| d.display().to_string());
    let written = tokio::task::spawn_blocking(move || {
        cache.write(&key, &validator, provenance.as_ref(), &set, read_at)
    })
    .await;
    if let Ok(Err(e)) = written {
        tracing::warn!(dir, "the results cache could not be written: {e}");
    }
}

/// Watches the project's modification date around a save of this process: Studio may
/// count a threshold change as a modification, and the scores kept for the project's
/// impulses (which thresholds do not change) must then move with the date, or they would
/// stop standing for their models when Studio withholds its own.
pub struct SaveWitness {
    origin: String,
    project: u64,
    kept_at: String,
    before: Slot<String>,
}

impl SaveWitness {
    /// Watches a save about to go to `impulse`'s project, when scores are kept for it,
    /// reading the date first (for a few seconds at most): what sends at once has no other
    /// read before its write (`set`, `suggest --apply`).
    pub async fn before(
        client: &StudioClient,
        cache: &ResultsCache,
        project: u64,
        impulse: u64,
    ) -> Option<Self> {
        let mut witness = Self::start(client, cache, project, impulse)?;
        let date = witness.before.get().await;
        witness.before = Slot::Read(date);
        Some(witness)
    }

    /// Watches a save about to go to `impulse`'s project, when scores are kept for it;
    /// the date is read beside the save, never in its way. A save that reads before it
    /// writes (the tuner's guard) gives the read the time to land first; if it lands
    /// after, the date is taken as after the save and nothing is carried over.
    pub fn start(
        client: &StudioClient,
        cache: &ResultsCache,
        project: u64,
        impulse: u64,
    ) -> Option<Self> {
        let key = CacheKey::new(client.base_url(), project, impulse);
        let kept_at = cache.kept_date(&key)?;
        let reader = client.clone();
        Some(Self {
            origin: key.origin,
            project,
            kept_at,
            before: Slot::spawn(async move { data_date(&reader, project).await }),
        })
    }

    /// The save ended (`applied`: Studio applied it): when the date moved from the one the
    /// kept scores stand at, every entry of the project at that date moves with it.
    pub async fn saved(mut self, client: &StudioClient, cache: &ResultsCache, applied: bool) {
        if !applied || self.before.get().await.as_deref() != Some(self.kept_at.as_str()) {
            return;
        }
        let Some(after) = data_date(client, self.project).await else {
            return;
        };
        if after == self.kept_at {
            return;
        }
        tracing::debug!("the save moved the project's modification date: the scores move too");
        let (cache, origin, project, from) =
            (cache.clone(), self.origin, self.project, self.kept_at);
        let moved =
            tokio::task::spawn_blocking(move || cache.carry_over(&origin, project, &from, &after))
                .await;
        if let Ok(Err(e)) = moved {
            tracing::warn!("the kept scores could not be updated: {e}");
        }
    }
}
