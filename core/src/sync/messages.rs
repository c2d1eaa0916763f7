//! The sync protocol's messages (version 1) and their binary encoding.
//!
//! One ordinary sync is **one** `POST /v1/sync`: the tablet pushes its unsynced changes and
//! pulls everything in its scope since its cursor, in the same request. A response that could
//! not carry everything says `more`; the tablet repeats with the new cursor (and nothing left
//! to push). See `docs/sync-protocol.md` for the byte layout.

use super::codec::{DecodeError, Reader, Writer};

/// Protocol version carried by every message.
pub const PROTOCOL_VERSION: u64 = 1;
const REQUEST_MAGIC: &[u8; 4] = b"RHQ1";
const RESPONSE_MAGIC: &[u8; 4] = b"RHS1";
const LINK_MAGIC: &[u8; 4] = b"RHL1";

/// Largest accepted single change.
pub const MAX_CHANGE_BYTES: usize = 1 << 20;
/// Most changes in one message.
pub const MAX_CHANGES: u64 = 200_000;
/// Most households in one message.
pub const MAX_HOUSEHOLDS: u64 = 100_000;
/// Most distinct signers referenced by one message.
pub const MAX_SIGNERS: u64 = 10_000;
const MAX_ID: usize = 64;
const MAX_TEXT: usize = 1024;

/// Where a tablet is in the server's change feed: the server database's epoch, the last feed
/// sequence number it has received, and the feed's chain hash up to that entry (SHA-256 over
/// the previous chain hash and each change hash, in feed order; all zero for sequence 0). A
/// server whose feed up to that sequence is not the one the tablet followed — restored from
/// a backup, or replaced — cannot continue the cursor and answers `reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub epoch: [u8; 16],
    pub seq: u64,
    pub last_hash: [u8; 32],
}

/// One Automerge change with its author's signature over the change hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedChange {
    /// Raw change bytes.
    pub change: Vec<u8>,
    /// SHA-256 of the signer's certificate body.
    pub signer: [u8; 32],
    /// Ed25519 signature over [`super::signatures::change_signing_bytes`].
    pub signature: [u8; 64],
    /// The server's receipt time (Unix seconds) of a pulled change; 0 in pushes. Revocations
    /// are judged against it: a change the server received before a certificate's revocation
    /// took effect stays valid on every tablet.
    pub received_at: u64,
}

/// The changes of one household, in an order that applies (dependencies first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdChanges {
    pub household_id: String,
    pub changes: Vec<SignedChange>,
}

/// Push and pull in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The app's version (`major.minor.patch`); the server refuses apps older than the
    /// county's configured minimum.
    pub app_version: String,
    /// Serial of the county configuration the tablet holds (0 for none).
    pub config_serial: u64,
    /// Feed position; `None` on the first sync (or after a reset).
    pub cursor: Option<Cursor>,
    /// The villages whose history the cursor covers (as returned with it). When the worker's
    /// certificate now covers a village not listed, the server sends the whole history again
    /// (from the start of the feed), so a newly assigned village arrives complete.
    pub cursor_villages: Vec<String>,
    /// Unsynced changes, grouped by household.
    pub push: Vec<HouseholdChanges>,
    /// How many change bytes the response may carry at most.
    pub pull_limit_bytes: u64,
}

/// What happened to a pushed household that was not simply accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Refused: the reason says why; the changes are not stored and never will be as they are.
    Rejected = 1,
    /// Kept aside: something it depends on has not arrived yet (retry later).
    Held = 2,
    /// Accepted, but flagged for the team and the county (e.g. a resident ID number that
    /// also appears in another household).
    Flagged = 3,
}

/// The outcome of one pushed household that was not accepted as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdOutcome {
    pub household_id: String,
    pub kind: OutcomeKind,
    /// Stable code, e.g. `sync.out_of_scope`.
    pub code: String,
    pub detail: String,
    /// Hashes of the changes refused (the rest of that household's changes were accepted).
    pub refused_changes: Vec<[u8; 32]>,
}

/// The server's answer to a [`SyncRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResponse {
    /// The tablet's new cursor (store it once the pulled changes are durable).
    pub cursor: Cursor,
    /// The villages the new cursor covers.
    pub cursor_villages: Vec<String>,
    /// The tablet's cursor was from another epoch (a restored or replaced server): it must
    /// forget its cursor and push everything again; `pulled` starts from the beginning.
    pub reset: bool,
    /// Serial of the server's current county configuration (fetch it if newer).
    pub config_serial: u64,
    /// Pushed households not accepted as a whole; every household not listed was accepted.
    pub outcomes: Vec<HouseholdOutcome>,
    /// Changes in the tablet's scope since its cursor.
    pub pulled: Vec<HouseholdChanges>,
    /// More is waiting: repeat with the new cursor.
    pub more: bool,
}

/// Writes grouped changes with a shared signer table (each change then names its signer by a
/// small index instead of 32 bytes).
fn write_groups(w: &mut Writer, groups: &[HouseholdChanges], with_times: bool) {
    let mut signers: Vec<[u8; 32]> = Vec::new();
    for g in groups {
        for c in &g.changes {
            if !signers.contains(&c.signer) {
                signers.push(c.signer);
            }
        }
    }
    w.uint(signers.len() as u64);
    for s in &signers {
        w.fixed(s);
    }
    w.uint(groups.len() as u64);
    for g in groups {
        w.text(&g.household_id);
        w.uint(g.changes.len() as u64);
        for c in &g.changes {
            let index = signers.iter().position(|s| *s == c.signer).unwrap_or(0);
            w.uint(index as u64);
            w.fixed(&c.signature);
            if with_times {
                w.uint(c.received_at);
            }
            w.bytes(&c.change);
        }
    }
}

fn read_groups(r: &mut Reader<'_>, with_times: bool) -> Result<Vec<HouseholdChanges>, DecodeError> {
    let signer_count = r.uint_max("signer count", MAX_SIGNERS)?;
    let mut signers = Vec::with_capacity(signer_count as usize);
    for _ in 0..signer_count {
        signers.push(r.fixed::<32>("signer")?);
    }
    let household_count = r.uint_max("household count", MAX_HOUSEHOLDS)?;
    let mut groups = Vec::with_capacity(household_count.min(1024) as usize);
    let mut total_changes = 0u64;
    for _ in 0..household_count {
        let household_id = r.text("household id", MAX_ID)?;
        let count = r.uint_max("change count", MAX_CHANGES)?;
        total_changes += count;
        if total_changes > MAX_CHANGES {
            return Err(DecodeError::TooLarge {
                what: "changes in message",
                len: total_changes,
                max: MAX_CHANGES,
            });
        }
        let mut changes = Vec::with_capacity(count.min(1024) as usize);
        for _ in 0..count {
            let index = r.uint("signer index")?;
            let signer = *signers.get(index as usize).ok_or(DecodeError::BadValue {
                what: "signer index",
                value: index,
            })?;
            let signature = r.fixed::<64>("change signature")?;
            let received_at = if with_times {
                r.uint("receipt time")?
            } else {
                0
            };
            let change = r.bytes("change", MAX_CHANGE_BYTES)?.to_vec();
            changes.push(SignedChange {
                change,
                signer,
                signature,
                received_at,
            });
        }
        groups.push(HouseholdChanges {
            household_id,
            changes,
        });
    }
    Ok(groups)
}

/// Most villages in one scope.
pub const MAX_VILLAGES: u64 = 5_000;

fn write_villages(w: &mut Writer, villages: &[String]) {
    w.uint(villages.len() as u64);
    for v in villages {
        w.text(v);
    }
}

fn read_villages(r: &mut Reader<'_>) -> Result<Vec<String>, DecodeError> {
    let n = r.uint_max("village count", MAX_VILLAGES)?;
    (0..n).map(|_| r.text("village code", 12)).collect()
}

fn write_cursor(w: &mut Writer, cursor: &Cursor) {
    w.fixed(&cursor.epoch);
    w.uint(cursor.seq);
    w.fixed(&cursor.last_hash);
}

fn read_cursor(r: &mut Reader<'_>) -> Result<Cursor, DecodeError> {
    Ok(Cursor {
        epoch: r.fixed::<16>("cursor epoch")?,
        seq: r.uint("cursor sequence")?,
        last_hash: r.fixed::<32>("cursor hash")?,
    })
}

fn read_header(r: &mut Reader<'_>, magic: &[u8; 4]) -> Result<(), DecodeError> {
    let found = r.fixed::<4>("magic")?;
    if &found != magic {
        return Err(DecodeError::BadValue {
            what: "magic",
            value: u64::from(u32::from_be_bytes(found)),
        });
    }
    let version = r.uint("protocol version")?;
    if version != PROTOCOL_VERSION {
        return Err(DecodeError::BadValue {
            what: "protocol version",
            value: version,
        });
    }
    Ok(())
}

impl HouseholdChanges {
    /// The local-link form (tablet to tablet over any channel the platform offers): the
    /// household's signed changes, decoded with the same limits as a sync message.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.fixed(LINK_MAGIC);
        w.uint(PROTOCOL_VERSION);
        write_groups(&mut w, std::slice::from_ref(self), false);
        w.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, LINK_MAGIC)?;
        let mut groups = read_groups(&mut r, false)?;
        r.finish()?;
        match (groups.pop(), groups.is_empty()) {
            (Some(group), true) => Ok(group),
            _ => Err(DecodeError::BadValue {
                what: "household count",
                value: 0,
            }),
        }
    }
}

impl SyncRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.fixed(REQUEST_MAGIC);
        w.uint(PROTOCOL_VERSION);
        w.text(&self.app_version);
        w.uint(self.config_serial);
        match &self.cursor {
            Some(c) => {
                w.uint(1);
                write_cursor(&mut w, c);
            }
            None => w.uint(0),
        }
        write_villages(&mut w, &self.cursor_villages);
        w.uint(self.pull_limit_bytes);
        write_groups(&mut w, &self.push, false);
        w.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, REQUEST_MAGIC)?;
        let app_version = r.text("app version", 32)?;
        let config_serial = r.uint("config serial")?;
        let cursor = match r.uint_max("cursor flag", 1)? {
            1 => Some(read_cursor(&mut r)?),
            _ => None,
        };
        let cursor_villages = read_villages(&mut r)?;
        let pull_limit_bytes = r.uint("pull limit")?;
        let push = read_groups(&mut r, false)?;
        r.finish()?;
        Ok(Self {
            app_version,
            config_serial,
            cursor,
            cursor_villages,
            push,
            pull_limit_bytes,
        })
    }
}

impl SyncResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.fixed(RESPONSE_MAGIC);
        w.uint(PROTOCOL_VERSION);
        write_cursor(&mut w, &self.cursor);
        write_villages(&mut w, &self.cursor_villages);
        w.uint(u64::from(self.reset));
        w.uint(self.config_serial);
        w.uint(self.outcomes.len() as u64);
        for o in &self.outcomes {
            w.text(&o.household_id);
            w.uint(o.kind as u64);
            w.text(&o.code);
            w.text(&o.detail);
            w.uint(o.refused_changes.len() as u64);
            for h in &o.refused_changes {
                w.fixed(h);
            }
        }
        write_groups(&mut w, &self.pulled, true);
        w.uint(u64::from(self.more));
        w.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, RESPONSE_MAGIC)?;
        let cursor = read_cursor(&mut r)?;
        let cursor_villages = read_villages(&mut r)?;
        let reset = r.uint_max("reset flag", 1)? == 1;
        let config_serial = r.uint("config serial")?;
        let count = r.uint_max("outcome count", MAX_HOUSEHOLDS)?;
        let mut outcomes = Vec::with_capacity(count.min(1024) as usize);
        for _ in 0..count {
            let household_id = r.text("household id", MAX_ID)?;
            let kind = match r.uint("outcome kind")? {
                1 => OutcomeKind::Rejected,
                2 => OutcomeKind::Held,
                3 => OutcomeKind::Flagged,
                other => {
                    return Err(DecodeError::BadValue {
                        what: "outcome kind",
                        value: other,
                    })
                }
            };
            let code = r.text("outcome code", MAX_TEXT)?;
            let detail = r.text("outcome detail", MAX_TEXT)?;
            let n = r.uint_max("refused change count", MAX_CHANGES)?;
            let mut refused_changes = Vec::with_capacity(n.min(1024) as usize);
            for _ in 0..n {
                refused_changes.push(r.fixed::<32>("refused change")?);
            }
            outcomes.push(HouseholdOutcome {
                household_id,
                kind,
                code,
                detail,
                refused_changes,
            });
        }
        let pulled = read_groups(&mut r, true)?;
        let more = r.uint_max("more flag", 1)? == 1;
        r.finish()?;
        Ok(Self {
            cursor,
            cursor_villages,
            reset,
            config_serial,
            outcomes,
            pulled,
            more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_groups() -> Vec<HouseholdChanges> {
        vec![
            HouseholdChanges {
                household_id: "a".repeat(32),
                changes: vec![
                    SignedChange {
                        change: vec![1, 2, 3],
                        signer: [7; 32],
                        signature: [9; 64],
                        received_at: 0,
                    },
                    SignedChange {
                        change: vec![4; 300],
                        signer: [8; 32],
                        signature: [10; 64],
                        received_at: 0,
                    },
                ],
            },
            HouseholdChanges {
                household_id: "b".repeat(32),
                changes: vec![SignedChange {
                    change: vec![5],
                    signer: [7; 32],
                    signature: [11; 64],
                    received_at: 0,
                }],
            },
        ]
    }

    #[test]
    fn requests_and_responses_round_trip() {
        let request = SyncRequest {
            app_version: "0.1.0".into(),
            config_serial: 3,
            cursor: Some(Cursor {
                epoch: [1; 16],
                seq: 99,
                last_hash: [4; 32],
            }),
            cursor_villages: vec!["620102001001".into()],
            push: sample_groups(),
            pull_limit_bytes: 1 << 20,
        };
        assert_eq!(SyncRequest::decode(&request.encode()).unwrap(), request);
        let response = SyncResponse {
            cursor: Cursor {
                epoch: [2; 16],
                seq: 1000,
                last_hash: [5; 32],
            },
            cursor_villages: vec!["620102001001".into(), "620102001002".into()],
            reset: true,
            config_serial: 4,
            outcomes: vec![HouseholdOutcome {
                household_id: "c".into(),
                kind: OutcomeKind::Rejected,
                code: "sync.out_of_scope".into(),
                detail: "village 620102001009 is not in your certificate".into(),
                refused_changes: vec![[3; 32]],
            }],
            pulled: sample_groups(),
            more: false,
        };
        assert_eq!(SyncResponse::decode(&response.encode()).unwrap(), response);
    }

    #[test]
    fn malformed_messages_are_refused() {
        let request = SyncRequest {
            app_version: "0.1.0".into(),
            config_serial: 0,
            cursor: None,
            cursor_villages: Vec::new(),
            push: sample_groups(),
            pull_limit_bytes: 10,
        };
        let bytes = request.encode();
        for cut in 0..bytes.len() {
            assert!(SyncRequest::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(matches!(
            SyncRequest::decode(&extra),
            Err(DecodeError::TrailingBytes(1))
        ));
        let mut wrong_magic = bytes.clone();
        wrong_magic[0] = b'X';
        assert!(SyncRequest::decode(&wrong_magic).is_err());
        assert!(
            SyncResponse::decode(&bytes).is_err(),
            "a request is not a response"
        );
    }
}
