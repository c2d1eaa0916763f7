//! The push half of a sync: authorize each household, validate its changes with the shared
//! core checks (`ruhu_core::sync::ingest`) against its document kept in memory, and commit
//! everything accepted in one transaction. Households are validated in parallel.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use ruhu_core::sync::ingest::{ingest, IngestContext, Ingested};
use ruhu_core::sync::{HouseholdChanges, HouseholdOutcome, OutcomeKind, SignedChange};

use crate::auth::Requester;
use crate::county::CountyState;
use crate::error::ApiError;
use crate::storage::cache::CachedHousehold;
use crate::storage::{AccessRow, CommitError, FeedEntry, HouseholdCommit, Skip};
use crate::timing::ServerTiming;
use crate::AppState;

/// Write a snapshot once a household has this many changes after its last one.
const SNAPSHOT_EVERY: usize = 64;
/// Validate in parallel from this many households on.
const PARALLEL_FROM: usize = 8;

/// What the push did.
#[derive(Debug, Default)]
pub struct PushResult {
    pub outcomes: Vec<HouseholdOutcome>,
    /// The changes accepted now (not sent back in the pull of the same request).
    pub accepted: Skip,
}

struct Job {
    household_id: String,
    changes: Vec<SignedChange>,
    document: Source,
}

/// Where a job's document comes from: the cache, or storage (read and rebuilt on the
/// validating thread, so households missing from the cache load in parallel).
enum Source {
    Cached(Box<CachedHousehold>),
    Storage,
}

struct Done {
    household_id: String,
    raw: Vec<Vec<u8>>,
    cached: CachedHousehold,
    result: Result<Ingested, String>,
    /// A snapshot of the document after the accepted changes, when one is due.
    snapshot: Option<Vec<u8>>,
}

fn outcome(id: &str, kind: OutcomeKind, code: &str, detail: impl Into<String>) -> HouseholdOutcome {
    HouseholdOutcome {
        household_id: id.to_owned(),
        kind,
        code: code.to_owned(),
        detail: detail.into(),
        refused_changes: Vec::new(),
    }
}

fn is_household_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hashes_of(raw: &[Vec<u8>]) -> Vec<[u8; 32]> {
    raw.iter()
        .map(|bytes| {
            ruhu_core::sync::change_hash::hash_of(bytes)
                .unwrap_or_else(|| ruhu_core::signing::canonical::sha256(bytes))
        })
        .collect()
}

/// Where a household's document is: the cache, or storage (where it may not be yet).
fn locate(state: &AppState, id: &str) -> Source {
    match state.cache.take(id) {
        Some(cached) => Source::Cached(Box::new(cached)),
        None => Source::Storage,
    }
}

/// The document of a job (a decoding error or panic is a storage fault).
fn materialize(state: &AppState, id: &str, source: Source) -> Result<CachedHousehold, ApiError> {
    let stored = match source {
        Source::Cached(cached) => return Ok(*cached),
        Source::Storage => match state.storage.load_household(id)? {
            Some(stored) => stored,
            None => {
                return Ok(CachedHousehold {
                    doc: AutoCommit::new(),
                    last_seq: 0,
                    location: None,
                    changes_since_snapshot: 0,
                })
            }
        },
    };
    Ok(CachedHousehold {
        doc: stored.document(id)?,
        last_seq: stored.last_seq,
        changes_since_snapshot: stored.changes.len(),
        location: Some((stored.village_code, stored.county_code)),
    })
}

/// Validates one household's changes against its document (the cached one, or loaded here).
fn validate(
    state: &AppState,
    county: &CountyState,
    now: DateTime<Utc>,
    job: Job,
) -> Result<Done, ApiError> {
    let storage = &state.storage;
    let actor_worker = |actor: &[u8]| storage.actor_worker(actor).ok().flatten();
    let ctx = IngestContext {
        trust: &county.trust,
        certificates: &county.certificates,
        actor_worker: &actor_worker,
        policy: &county.config.visit_policy,
        now,
    };
    let mut cached = materialize(state, &job.household_id, job.document)?;
    let raw: Vec<Vec<u8>> = job.changes.iter().map(|c| c.change.clone()).collect();
    let result = catch_unwind(AssertUnwindSafe(|| {
        ingest(&mut cached.doc, &job.household_id, job.changes, &ctx)
    }))
    .map_err(|_| "the changes could not be checked".to_owned());
    let due = result.as_ref().is_ok_and(|i| {
        !i.accepted.is_empty() && cached.changes_since_snapshot + i.accepted.len() >= SNAPSHOT_EVERY
    });
    // Saved here, on the validating thread, rather than while committing.
    let snapshot = due.then(|| cached.doc.save());
    Ok(Done {
        household_id: job.household_id,
        raw,
        cached,
        result,
        snapshot,
    })
}

fn run_jobs(
    state: &AppState,
    county: &CountyState,
    now: DateTime<Utc>,
    jobs: Vec<Job>,
) -> Result<Vec<Done>, ApiError> {
    let work = |job: Job| validate(state, county, now, job);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4);
    if jobs.len() < PARALLEL_FROM || threads < 2 {
        return jobs.into_iter().map(work).collect();
    }
    // Each thread takes the next household when it is free (households differ in cost, and
    // fixed shares would leave a core idle) and puts the result back in the household's slot,
    // so the request's order is kept: the feed order must not depend on thread timing.
    let slots: Vec<Mutex<Slot>> = jobs
        .into_iter()
        .map(|job| Mutex::new(Slot::Waiting(job)))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    while let Some(slot) = slots.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                        if let Slot::Waiting(job) = std::mem::replace(&mut *slot, Slot::Lost) {
                            *slot = Slot::Done(Box::new(work(job)));
                        }
                    }
                })
            })
            .collect();
        for handle in handles {
            // A thread that panicked leaves its household `Lost`: refused below.
            let _ = handle.join();
        }
    });
    slots
        .into_iter()
        .map(
            |slot| match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
                Slot::Done(result) => *result,
                Slot::Waiting(_) | Slot::Lost => Err(ApiError::internal(
                    "server.panic",
                    "a validating thread panicked",
                )),
            },
        )
        .collect()
}

/// A household's place in a parallel validation.
enum Slot {
    Waiting(Job),
    Done(Box<Result<Done, ApiError>>),
    /// Taken by a thread that did not finish it.
    Lost,
}

/// Validates and commits the pushed households.
pub fn push(
    state: &AppState,
    county: &CountyState,
    requester: &Requester,
    groups: Vec<HouseholdChanges>,
    now: DateTime<Utc>,
    timing: &mut ServerTiming,
) -> Result<PushResult, ApiError> {
    let prepare_started = std::time::Instant::now();
    let mut result = PushResult::default();
    let mut access = Vec::new();
    let cert = &requester.certificate;
    let access_row = |id: &str, action: &'static str, changes: usize| AccessRow {
        worker_id: cert.worker_id.clone(),
        certificate_hash: requester.certificate_hash,
        action,
        household_id: id.to_owned(),
        changes: changes as u64,
    };

    // One group per household (a tablet may send a household twice: join them).
    let mut merged: Vec<HouseholdChanges> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for group in groups {
        match index.get(&group.household_id) {
            Some(&i) => merged[i].changes.extend(group.changes),
            None => {
                index.insert(group.household_id.clone(), merged.len());
                merged.push(group);
            }
        }
    }
    let _serialized = state.push_lock.lock().unwrap_or_else(|e| e.into_inner());
    let ids: Vec<&str> = merged.iter().map(|g| g.household_id.as_str()).collect();
    let stored = state.storage.household_villages(&ids)?;
    let mut jobs = Vec::new();
    for group in merged {
        let id = group.household_id.clone();
        let refusal = if !is_household_id(&id) {
            Some((
                "sync.bad_household_id",
                "a household id is 32 lower-case hex digits".to_owned(),
            ))
        } else if !requester.may_push() {
            Some((
                "sync.read_only",
                format!("{} may read but not write households", cert.worker_id),
            ))
        } else {
            stored
                .get(&id)
                .filter(|v| !cert.covers_village(v))
                .map(|village| {
                    (
                        "sync.out_of_scope",
                        format!(
                            "{} may not write households of village {village}",
                            cert.worker_id
                        ),
                    )
                })
        };
        if let Some((code, detail)) = refusal {
            access.push(access_row(&id, "push_refused", group.changes.len()));
            result
                .outcomes
                .push(outcome(&id, OutcomeKind::Rejected, code, detail));
            continue;
        }
        if group.changes.is_empty() {
            continue;
        }
        jobs.push(Job {
            document: locate(state, &id),
            household_id: id,
            changes: group.changes,
        });
    }

    timing.record("prepare", prepare_started.elapsed());
    let mut commits: Vec<HouseholdCommit> = Vec::new();
    let mut documents: Vec<CachedHousehold> = Vec::new();
    let done = timing.time("validate", || run_jobs(state, county, now, jobs))?;
    for done in done {
        let id = done.household_id.clone();
        let ingested = match done.result {
            Ok(ingested) => ingested,
            Err(detail) => {
                access.push(access_row(&id, "push_refused", done.raw.len()));
                let mut o = outcome(&id, OutcomeKind::Rejected, "sync.unprocessable", detail);
                o.refused_changes = hashes_of(&done.raw);
                result.outcomes.push(o);
                continue; // the document may be half-updated: not cached again
            }
        };
        if ingested.held {
            result.outcomes.push(outcome(
                &id,
                OutcomeKind::Held,
                "sync.missing_dependencies",
                "the changes depend on changes the server has not received; push those first",
            ));
            state.cache.put(id, done.cached);
            continue;
        }
        // Changes whose new sealed visits list attachments the server lacks wait for them:
        // never accepted with a dangling reference. Nothing is stored; the document in
        // memory holds the changes, so it is not cached.
        let missing: Vec<String> = ingested
            .new_attachments
            .iter()
            .filter(|h| !state.attachments.has(&h.0))
            .map(|h| h.to_hex())
            .collect();
        if ingested.rejection.is_none() && !ingested.accepted.is_empty() && !missing.is_empty() {
            result.outcomes.push(outcome(
                &id,
                OutcomeKind::Held,
                "sync.missing_attachments",
                format!(
                    "waiting for attachment(s) {}: upload them, then push again",
                    missing.join(", ")
                ),
            ));
            continue;
        }
        if let Some((code, detail)) = ingested.rejection {
            access.push(access_row(&id, "push_refused", done.raw.len()));
            let mut o = outcome(&id, OutcomeKind::Rejected, code, detail);
            o.refused_changes = hashes_of(&done.raw);
            result.outcomes.push(o);
            state.cache.put(id, done.cached);
            continue;
        }
        if let Some(first) = ingested.refused.first() {
            let mut o = outcome(&id, OutcomeKind::Rejected, first.code, first.detail.clone());
            o.refused_changes = ingested.refused.iter().map(|r| r.hash).collect();
            result.outcomes.push(o);
        }
        if ingested.accepted.is_empty() {
            if !ingested.refused.is_empty() {
                access.push(access_row(&id, "push_refused", ingested.refused.len()));
            }
            state.cache.put(id, done.cached);
            continue;
        }
        // The household after the changes must still be in the sender's villages.
        let household = match ingested.household.clone().ok_or_else(|| {
            ruhu_core::Error::Document("accepted changes without a household".into())
        }) {
            Ok(h) if cert.covers_village(&h.profile.village_code) => h,
            Ok(h) => {
                access.push(access_row(&id, "push_refused", done.raw.len()));
                let mut o = outcome(
                    &id,
                    OutcomeKind::Rejected,
                    "sync.out_of_scope",
                    format!(
                        "{} may not write households of village {}",
                        cert.worker_id, h.profile.village_code
                    ),
                );
                o.refused_changes = ingested.accepted.iter().map(|a| a.hash).collect();
                result.outcomes.push(o);
                continue; // the cached document holds the refused changes: dropped
            }
            Err(e) => {
                let mut o = outcome(&id, OutcomeKind::Rejected, "sync.schema", e.to_string());
                o.refused_changes = ingested.accepted.iter().map(|a| a.hash).collect();
                result.outcomes.push(o);
                continue;
            }
        };
        let mut cached = done.cached;
        cached.changes_since_snapshot += ingested.accepted.len();
        let snapshot = done.snapshot;
        if snapshot.is_some() {
            cached.changes_since_snapshot = 0;
        }
        access.push(access_row(&id, "push", ingested.accepted.len()));
        let commit = HouseholdCommit {
            household_id: id,
            village_code: household.profile.village_code.clone(),
            county_code: household.profile.county_code.clone(),
            expected_last_seq: cached.location.as_ref().map(|_| cached.last_seq),
            entries: ingested
                .accepted
                .into_iter()
                .map(|a| FeedEntry {
                    hash: a.hash,
                    signed: a.signed,
                    author: a.author,
                    actor: a.actor,
                })
                .collect(),
            resident_ids: household
                .members
                .iter()
                .map(|(member_id, m)| (member_id.clone(), m.id_number.clone()))
                .collect(),
            snapshot,
            attachments: ingested.new_attachments.iter().map(|h| h.0).collect(),
        };
        commits.push(commit);
        documents.push(cached);
    }

    let commit_started = std::time::Instant::now();
    let committed = commit(
        state,
        requester,
        (commits, documents),
        access,
        now,
        &mut result,
        timing,
    );
    timing.record("commit", commit_started.elapsed());
    committed?;
    Ok(result)
}

/// Commits in one transaction; a household whose actor turns out to belong to someone else
/// is taken out and the rest committed. `commits` and the documents after them go in pairs.
fn commit(
    state: &AppState,
    requester: &Requester,
    (mut commits, mut documents): (Vec<HouseholdCommit>, Vec<CachedHousehold>),
    mut access: Vec<AccessRow>,
    now: DateTime<Utc>,
    result: &mut PushResult,
    timing: &mut ServerTiming,
) -> Result<(), ApiError> {
    loop {
        match state
            .storage
            .commit_push(&commits, &access, now.timestamp())
        {
            Ok(committed) => {
                // Parts of `commit`: the rows written, then made durable.
                timing.record("commit_rows", committed.rows_time);
                timing.record("commit_durable", committed.durable_time);
                result.accepted.range = committed.appended;
                let mut flagged: HashMap<String, Vec<String>> = HashMap::new();
                for d in committed.duplicates {
                    flagged.entry(d.household_id).or_default().push(d.member_id);
                }
                for (id, mut members) in flagged {
                    members.sort();
                    members.dedup();
                    result.outcomes.push(outcome(
                        &id,
                        OutcomeKind::Flagged,
                        "sync.duplicate_resident_id",
                        format!(
                            "the resident ID number of member(s) {} also appears in another household; the county has been notified",
                            members.join(", ")
                        ),
                    ));
                }
                for (c, mut cached) in commits.into_iter().zip(documents) {
                    result
                        .accepted
                        .hashes
                        .extend(c.entries.iter().map(|e| e.hash));
                    cached.last_seq = committed
                        .last_seqs
                        .get(&c.household_id)
                        .copied()
                        .unwrap_or(cached.last_seq);
                    cached.location = Some((c.village_code, c.county_code));
                    state.cache.put(c.household_id, cached);
                }
                return Ok(());
            }
            Err(CommitError::ActorTaken {
                household_id,
                actor,
                owner,
            }) => {
                let Some(i) = commits.iter().position(|c| c.household_id == household_id) else {
                    return Err(ApiError::internal(
                        "server.commit",
                        "actor conflict on an unknown household",
                    ));
                };
                let c = commits.remove(i);
                documents.remove(i);
                access.retain(|a| a.household_id != household_id || a.action != "push");
                access.push(AccessRow {
                    worker_id: requester.certificate.worker_id.clone(),
                    certificate_hash: requester.certificate_hash,
                    action: "push_refused",
                    household_id: household_id.clone(),
                    changes: c.entries.len() as u64,
                });
                let mut o = outcome(
                    &household_id,
                    OutcomeKind::Rejected,
                    "sync.actor_of_another_worker",
                    format!("actor {actor} belongs to worker {owner}"),
                );
                o.refused_changes = c.entries.iter().map(|e| e.hash).collect();
                result.outcomes.push(o);
            }
            Err(CommitError::Conflict(ids)) => {
                // Another server process moved these households on: their cached documents
                // are stale. Nothing was stored; the tablet retries.
                for c in commits {
                    drop(state.cache.take(&c.household_id));
                }
                return Err(ApiError::unavailable(
                    "sync.busy",
                    format!("{} household(s) changed concurrently; retry", ids.len()),
                ));
            }
            Err(CommitError::Storage(e)) => return Err(e.into()),
        }
    }
}
