//! The county of one run: the sync server as its own process, the field tablets (case
//! handlers) and their co-signers, the seed, and each tablet's day of work — all untimed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ruhu_core::fixtures;
use ruhu_core::household::NewHousehold;
use ruhu_core::resident_id::with_check_char;
use ruhu_core::signing::certificate::Role;
use ruhu_core::signing::keys::FileKeyStore as SigningKeys;
use ruhu_core::sync::client::SyncReport;
use ruhu_core::visit::content::ContentHash;
use ruhu_core::visit::cosign::ContentReceiver;
use ruhu_core::visit::{Purpose, TeamMember};
use ruhu_core::Store;
use ruhu_tests::{install_config, seal_details, visit_answers, County, ServerProcess, Tablet};
use serde_json::json;

use crate::Res;

/// Field tablets (case handlers) per township; two of them share each village.
pub const TABLETS_PER_TOWNSHIP: usize = 6;
pub const TABLETS_PER_VILLAGE: usize = 2;
/// One tablet's day: households visited (one signed visit each), care-log entries per
/// household, and how many of the households get a profile edit.
pub const HOUSEHOLDS_PER_TABLET: usize = 5;
pub const CARE_ENTRIES_PER_HOUSEHOLD: usize = 3;
pub const PROFILE_EDITS: usize = 3;
/// Photos per visit and the size of each (incompressible bytes, like JPEG).
pub const PHOTOS_PER_VISIT: usize = 2;
pub const PHOTO_BYTES: usize = 200 * 1024;

// ---------------------------------------------------------------------------------------
// PHOTOS. The one place that attaches a visit's photos: 2 photos of 200 KB, stored
// encrypted on the tablet with `Store::add_attachment` and listed (sorted, as a sealed record
// requires) in the seal; `sync` uploads them before the changes that reference them.

/// Stores the photos of one visit on the tablet and returns their hashes for the seal.
fn attach_photos(store: &mut Store, household: &str, seed: u64) -> Res<Vec<ContentHash>> {
    let mut hashes = (0..PHOTOS_PER_VISIT as u64)
        .map(|p| store.add_attachment(household, &photo(seed + p)))
        .collect::<ruhu_core::Result<Vec<_>>>()?;
    hashes.sort();
    Ok(hashes)
}

/// Incompressible photo bytes, different for every seed.
pub fn photo(seed: u64) -> Vec<u8> {
    let mut rng = ruhu_tests::Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = Vec::with_capacity(PHOTO_BYTES + 8);
    while out.len() < PHOTO_BYTES {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(PHOTO_BYTES);
    out
}

// ---------------------------------------------------------------------------------------

/// One field tablet: a case handler's own store, certificate and village.
pub struct FieldTablet {
    pub tablet: Tablet,
    pub index: usize,
    pub township: usize,
    pub village: String,
    /// Its households and the open care visit of each.
    pub households: Vec<String>,
    pub care_visits: Vec<String>,
    /// Content hashes of the photos it attached today.
    pub photos: Vec<ContentHash>,
}

/// A township: its field tablets and the co-signers of their visits (the township leader
/// and one village cadre per village), whose tablets never sync during the timed run.
pub struct Township {
    pub tablets: Vec<FieldTablet>,
    leader: Tablet,
    /// By village code.
    cadres: Vec<(String, Tablet)>,
}

/// The whole county of one run.
/// (Fields drop in order: the server process ends before its folder is removed.)
pub struct CountyRun {
    pub server: ServerProcess,
    pub townships: Vec<Township>,
    pub data: tempfile::TempDir,
    _county: County,
    /// Untimed preparation: enrollment, seeding, the day's work on the tablets.
    pub setup: Duration,
    pub seed: Duration,
    pub day: Duration,
    /// Changes written on the tablets for the day (all unsynced before the timed run).
    pub day_changes: u64,
}

fn township_code(t: usize) -> String {
    format!("{}{:03}", fixtures::COUNTY, t + 1)
}

fn village_code(t: usize, v: usize) -> String {
    format!("{}{:03}", township_code(t), v + 1)
}

impl CountyRun {
    /// Starts the server process and enrolls `tablets` field tablets and their co-signers.
    pub fn start(server_binary: &Path, tablets: usize) -> Res<Self> {
        let started = Instant::now();
        let county = County::new();
        let data = tempfile::tempdir()?;
        let key = county.public_key_file();
        let server = ServerProcess::spawn(&server_binary.to_string_lossy(), data.path(), &key, 0);
        let url = server.url();
        let mut townships = Vec::new();
        let mut index = 0;
        for t in 0..tablets.div_ceil(TABLETS_PER_TOWNSHIP) {
            let in_township = TABLETS_PER_TOWNSHIP.min(tablets - index);
            let villages: Vec<String> = (0..in_township.div_ceil(TABLETS_PER_VILLAGE))
                .map(|v| village_code(t, v))
                .collect();
            let all: Vec<&str> = villages.iter().map(String::as_str).collect();
            let leader = Tablet::enroll(
                &county,
                &url,
                &format!("leader-{t}"),
                &[Role::TownshipLeader],
                &all,
            );
            let cadres = villages
                .iter()
                .map(|v| {
                    let cadre = Tablet::enroll(
                        &county,
                        &url,
                        &format!("cadre-{v}"),
                        &[Role::VillageCadre],
                        &[v.as_str()],
                    );
                    (v.clone(), cadre)
                })
                .collect();
            let mut field = Vec::new();
            for k in 0..in_township {
                let village = villages[k / TABLETS_PER_VILLAGE].clone();
                let tablet = Tablet::enroll(
                    &county,
                    &url,
                    &format!("handler-{index}"),
                    &[Role::CaseHandler],
                    &[village.as_str()],
                );
                field.push(FieldTablet {
                    tablet,
                    index,
                    township: t,
                    village,
                    households: Vec::new(),
                    care_visits: Vec::new(),
                    photos: Vec::new(),
                });
                index += 1;
            }
            townships.push(Township {
                tablets: field,
                leader,
                cadres,
            });
        }
        let mut certificates = Vec::new();
        for t in &townships {
            certificates.push(t.leader.certificate.clone());
            certificates.extend(t.cadres.iter().map(|(_, c)| c.certificate.clone()));
            certificates.extend(t.tablets.iter().map(|f| f.tablet.certificate.clone()));
        }
        install_config(&url, &county.config_json(certificates, None));
        Ok(Self {
            server,
            townships,
            data,
            _county: county,
            setup: started.elapsed(),
            seed: Duration::ZERO,
            day: Duration::ZERO,
            day_changes: 0,
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data.path().to_path_buf()
    }

    pub fn server_pid(&self) -> u32 {
        self.server.child.id()
    }

    pub fn tablets(&self) -> impl Iterator<Item = &FieldTablet> {
        self.townships.iter().flat_map(|t| t.tablets.iter())
    }

    pub fn tablets_mut(&mut self) -> impl Iterator<Item = &mut FieldTablet> {
        self.townships.iter_mut().flat_map(|t| t.tablets.iter_mut())
    }

    /// Each field tablet creates its households with an open care visit and pushes them;
    /// then every tablet syncs again, so that each has pulled its village peer's households
    /// and the timed sync starts from an up-to-date cursor. Co-signers fetch the configuration.
    pub fn seed(&mut self) -> Res<()> {
        let started = Instant::now();
        let villages: Vec<String> = self
            .tablets()
            .flat_map(|f| std::iter::repeat_n(f.village.clone(), HOUSEHOLDS_PER_TABLET))
            .collect();
        let mut inputs = new_households(&villages).into_iter();
        let mut all: Vec<(&mut FieldTablet, Vec<NewHousehold>)> = self
            .tablets_mut()
            .map(|field| (field, inputs.by_ref().take(HOUSEHOLDS_PER_TABLET).collect()))
            .collect();
        parallel(&mut all, |(field, mine)| field.seed(std::mem::take(mine)))?;
        let mut all: Vec<&mut FieldTablet> = self.tablets_mut().collect();
        parallel(&mut all, |field| {
            check_clean(&field.tablet.sync()?, "catch-up sync after seeding")
        })?;
        for t in &mut self.townships {
            t.leader.sync()?;
            for (_, cadre) in &mut t.cadres {
                cadre.sync()?;
            }
        }
        self.seed = started.elapsed();
        Ok(())
    }

    /// Every field tablet's day of work, offline: per household one periodic-review visit
    /// with its photos, sealed, signed by the case handler and co-signed by the leader and the
    /// village cadre over QR; the care-log entries; the profile edits. Townships in parallel
    /// (their co-signers are their own).
    pub fn day_of_work(&mut self) -> Res<()> {
        let started = Instant::now();
        let mut townships: Vec<&mut Township> = self.townships.iter_mut().collect();
        parallel(&mut townships, |t| t.day_of_work())?;
        self.day = started.elapsed();
        let mut changes = 0;
        for field in self.tablets_mut() {
            changes += field.tablet.store.unsynced_changes()?.0;
            field.tablet.store.clear_cache();
        }
        self.day_changes = changes;
        Ok(())
    }
}

impl FieldTablet {
    /// The visit team: the township leader, the village cadre and this case handler.
    fn team(&self) -> Vec<TeamMember> {
        [
            (Role::TownshipLeader, format!("leader-{}", self.township)),
            (Role::VillageCadre, format!("cadre-{}", self.village)),
            (Role::CaseHandler, self.tablet.worker_id.clone()),
        ]
        .into_iter()
        .map(|(role, worker_id)| TeamMember { role, worker_id })
        .collect()
    }

    /// First sync (the configuration), the households with an open care visit each, a push.
    fn seed(&mut self, households: Vec<NewHousehold>) -> Res<()> {
        check_clean(&self.tablet.sync()?, "first sync")?;
        for household in self.tablet.store.create_households(households)? {
            let care =
                self.tablet
                    .store
                    .start_visit(&household.id, Purpose::CareVisit, self.team())?;
            self.households.push(household.id);
            self.care_visits.push(care);
        }
        check_clean(&self.tablet.sync()?, "seed push")
    }
}

impl Township {
    fn day_of_work(&mut self) -> Res<()> {
        let Township {
            tablets,
            leader,
            cadres,
        } = self;
        for field in tablets {
            let cadre = cadres
                .iter_mut()
                .find(|(v, _)| *v == field.village)
                .map(|(_, c)| c)
                .ok_or("no cadre for the village")?;
            for j in 0..field.households.len() {
                let id = field.households[j].clone();
                let team = field.team();
                let store = &mut field.tablet.store;
                let visit = store.start_visit(&id, Purpose::PeriodicReview, team)?;
                store.edit_visit_draft(&id, &visit, &visit_answers())?;
                let mut details = seal_details(&field.village);
                let seed = ((field.index * HOUSEHOLDS_PER_TABLET + j) * PHOTOS_PER_VISIT) as u64;
                details.attachments = attach_photos(store, &id, seed)?;
                field.photos.extend(details.attachments.iter().copied());
                let hash = store.seal_visit(&id, &visit, &details)?.content_hash;
                field
                    .tablet
                    .sign_visit(&id, &visit, &hash, Role::CaseHandler);
                let chunks = field
                    .tablet
                    .store
                    .visit_content_chunks(&id, &visit, &hash)?;
                for (cosigner, role) in [
                    (&mut *leader, Role::TownshipLeader),
                    (&mut *cadre, Role::VillageCadre),
                ] {
                    // The co-signer's tablet scans the sealed content's QR codes, signs with
                    // its own key and answers with one QR code, imported by the case handler.
                    let mut scanner = ContentReceiver::expecting(hash);
                    for chunk in &chunks {
                        scanner.accept(chunk)?;
                    }
                    cosigner.store.receive_content(&scanner.finish()?)?;
                    let keys = SigningKeys::new(cosigner.dir.path().join("signing-keys"));
                    let response = cosigner.store.cosign(&hash, role, &keys, "device")?;
                    let verdict = field
                        .tablet
                        .store
                        .import_signature_response(&id, &visit, &hash, &response)?;
                    if role == Role::VillageCadre && !verdict.is_complete() {
                        return Err(
                            format!("visit {visit} incomplete: {:?}", verdict.status).into()
                        );
                    }
                }
                let care = field.care_visits[j].clone();
                for entry in 0..CARE_ENTRIES_PER_HOUSEHOLD {
                    field.tablet.store.edit_visit_draft(
                        &id,
                        &care,
                        &care_entry(field.index + j, entry),
                    )?;
                }
                if j < PROFILE_EDITS {
                    let phone = format!("137{:08}", field.index * 10 + j);
                    field.tablet.store.edit_household(&id, |h| {
                        h.profile.phone = Some(phone);
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Sample households of 3–6 members, the i-th in `villages[i]`, with resident ID numbers
/// unique in the county (the fixtures repeat them beyond a few thousand members, and the
/// server flags a number found in two households).
fn new_households(villages: &[String]) -> Vec<NewHousehold> {
    let mut per_birth_date: HashMap<NaiveDate, u32> = HashMap::new();
    villages
        .iter()
        .enumerate()
        .map(|(i, village)| {
            let mut h = fixtures::household(i as u64 + 1, village, 3 + i % 4);
            for m in &mut h.members {
                let seq = per_birth_date.entry(m.birth_date).or_insert(0);
                *seq += 1;
                m.id_number = with_check_char(&format!(
                    "{}{}{:03}",
                    fixtures::COUNTY,
                    m.birth_date.format("%Y%m%d"),
                    *seq % 1000
                ));
            }
            h
        })
        .collect()
}

/// One care-log entry — task, caregiver, date and note, elder present — written as one edit
/// of the household's open care visit (4 answer keys, one signed change), the stand-in the
/// sync benchmark uses while the core has no care log (docs/benchmarks/sync-workload.md).
fn care_entry(household: usize, entry: usize) -> Vec<(String, Option<serde_json::Value>)> {
    const TASKS: [&str; 3] = ["打扫卫生", "清洗衣物", "代购生活必需品"];
    [
        ("hardship_cause", json!(TASKS[entry % TASKS.len()])),
        ("supporters", json!(format!("护理员 {}", household % 7 + 1))),
        ("reason", json!(format!("2026-11-2{entry} 已完成"))),
        ("member_present_signed", json!(entry & 1 == 0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect()
}

/// A sync that the server accepted in full and whose pulled changes and photos all arrived.
pub fn check_clean(report: &SyncReport, what: &str) -> Res<()> {
    if report.not_accepted.is_empty()
        && report.refused_pulled == 0
        && report.attachments_unavailable == 0
    {
        Ok(())
    } else {
        Err(format!(
            "{what}: not accepted {:?}, refused pulled {}, photos unavailable {}",
            report.not_accepted, report.refused_pulled, report.attachments_unavailable
        )
        .into())
    }
}

/// Runs `f` on every item, on as many threads as there are cores (untimed preparation).
pub fn parallel<T: Send>(items: &mut [T], f: impl Fn(&mut T) -> Res<()> + Sync) -> Res<()> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per = items.len().div_ceil(workers).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks_mut(per)
            .map(|chunk| s.spawn(move || chunk.iter_mut().try_for_each(f)))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| "a preparation thread panicked")?)
    })
}
