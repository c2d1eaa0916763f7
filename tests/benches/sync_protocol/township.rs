//! The township: a server, the three-person team's tablets, the households.

use super::*;

pub(crate) struct Township {
    pub(crate) _county: County,
    pub(crate) _data: tempfile::TempDir,
    pub(crate) _server: Server,
    pub(crate) handler: Tablet,
    pub(crate) leader: Tablet,
    pub(crate) cadre: Tablet,
    pub(crate) proxy: Proxy,
    /// Household ids, in seeding order.
    pub(crate) ids: Vec<String>,
    /// The open care visit holding each household's care log.
    pub(crate) care_visits: Vec<String>,
}

pub(crate) struct Seeded {
    pub(crate) households: usize,
    pub(crate) elapsed: Duration,
    pub(crate) local: Duration,
    pub(crate) syncs: Duration,
    pub(crate) sync_round_trips: u32,
    pub(crate) pushed_changes: u64,
    pub(crate) pushed_bytes: u64,
}

impl Seeded {
    pub(crate) fn print(&self) {
        println!(
            "seed (untimed for the comparison): {} households, {} changes ({:.1} per household, \
             {:.1} MB of request bodies) in {:.1} s = {:.1} s local writes and co-signing + {:.1} s \
             pushes ({} round trips)",
            self.households,
            self.pushed_changes,
            self.pushed_changes as f64 / self.households as f64,
            self.pushed_bytes as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.local.as_secs_f64(),
            self.syncs.as_secs_f64(),
            self.sync_round_trips
        );
    }
}

pub(crate) struct Day {
    pub(crate) changes: u64,
    pub(crate) elapsed: Duration,
}

impl Township {
    /// A township whose server keeps `cached_households` documents in memory.
    pub(crate) fn start(cached_households: usize) -> Res<Self> {
        let county = County::new();
        let data = tempfile::tempdir()?;
        let server = Server::start_with(data.path(), &county, 0, |c| {
            c.cached_households = cached_households;
        });
        let url = server.url();
        let villages: Vec<String> = (0..VILLAGES).map(fixtures::village).collect();
        let scope: Vec<&str> = villages.iter().map(String::as_str).collect();
        let handler = Tablet::enroll(&county, &url, "w-handler", &[Role::CaseHandler], &scope);
        let leader = Tablet::enroll(&county, &url, "w-leader", &[Role::TownshipLeader], &scope);
        let cadre = Tablet::enroll(&county, &url, "w-cadre", &[Role::VillageCadre], &scope);
        install_config(
            &url,
            &county.config_json(
                vec![
                    handler.certificate.clone(),
                    leader.certificate.clone(),
                    cadre.certificate.clone(),
                ],
                None,
            ),
        );
        let proxy = Proxy::start(server.addr.port())?;
        let mut town = Self {
            _county: county,
            _data: data,
            _server: server,
            handler,
            leader,
            cadre,
            proxy,
            ids: Vec::new(),
            care_visits: Vec::new(),
        };
        for t in [&mut town.handler, &mut town.leader, &mut town.cadre] {
            t.sync()?;
        }
        Ok(town)
    }

    pub(crate) fn team(&self) -> Vec<TeamMember> {
        [
            (Role::TownshipLeader, &self.leader),
            (Role::VillageCadre, &self.cadre),
            (Role::CaseHandler, &self.handler),
        ]
        .into_iter()
        .map(|(role, t)| TeamMember {
            role,
            worker_id: t.worker_id.clone(),
        })
        .collect()
    }

    /// Creates and seeds the households in batches, pushing each batch.
    pub(crate) fn seed(&mut self, n: usize) -> Res<Seeded> {
        let started = Instant::now();
        let inputs = new_households(n);
        let mut seeded = Seeded {
            households: n,
            elapsed: Duration::ZERO,
            local: Duration::ZERO,
            syncs: Duration::ZERO,
            sync_round_trips: 0,
            pushed_changes: 0,
            pushed_bytes: 0,
        };
        let history = [
            (Purpose::NewApplication, at(2024, 1, 15)),
            (Purpose::PeriodicReview, at(2025, 1, 20)),
            (Purpose::PeriodicReview, at(2026, 1, 18)),
        ];
        for (b, batch) in inputs.chunks(BATCH).enumerate() {
            let local = Instant::now();
            let created = self.handler.store.create_households(batch.to_vec())?;
            for (j, household) in created.iter().enumerate() {
                let k = b * BATCH + j;
                let id = household.id.clone();
                let village = household.profile.village_code.clone();
                self.handler.store.edit_household(&id, |h| {
                    h.profile.phone = Some(format!("138{:08}", k));
                })?;
                for (purpose, when) in history {
                    self.signed_visit(&id, &village, purpose, when)?;
                }
                let care = self
                    .handler
                    .store
                    .start_visit(&id, Purpose::CareVisit, self.team())?;
                for entry in 0..CARE_HISTORY {
                    self.handler
                        .store
                        .edit_visit_draft(&id, &care, &care_entry(k, entry))?;
                }
                self.handler.store.edit_household(&id, |h| {
                    h.profile.address = format!("{}组{}号（翻修后）", k % 9 + 1, k % 97 + 1);
                })?;
                self.handler.store.edit_household(&id, |h| {
                    h.enrollment.dibao_class = Some(1 + ((k + 2) % 4) as u8);
                })?;
                self.ids.push(id);
                self.care_visits.push(care);
            }
            seeded.local += local.elapsed();
            let pushing = Instant::now();
            let report = self.handler.sync()?;
            seeded.syncs += pushing.elapsed();
            check_accepted(&report, "seed")?;
            seeded.sync_round_trips += report.round_trips;
            seeded.pushed_changes += report.pushed_changes;
            seeded.pushed_bytes += report.bytes_sent;
            eprintln!(
                "  seeded {}/{n} households ({:.0} s)",
                self.ids.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let (left, _) = self.handler.store.unsynced_changes()?;
        if left != 0 {
            return Err(format!("{left} seeded changes were not accepted").into());
        }
        seeded.elapsed = started.elapsed();
        Ok(seeded)
    }

    /// A visit started, answered and sealed on the case handler's tablet, signed there, and
    /// co-signed in the household by the leader and the cadre: their tablets scan the sealed
    /// content's QR codes, sign with their own keys and answer with one QR code each, which
    /// the case handler's tablet imports (the signature entries then travel with its push).
    pub(crate) fn signed_visit(
        &mut self,
        id: &str,
        village: &str,
        purpose: Purpose,
        visited_at: DateTime<Utc>,
    ) -> Res<()> {
        let team = self.team();
        let store = &mut self.handler.store;
        let visit = store.start_visit(id, purpose, team)?;
        store.edit_visit_draft(id, &visit, &visit_answers())?;
        let mut details = seal_details(village);
        details.visited_at = visited_at;
        let sealed = store.seal_visit(id, &visit, &details)?;
        let hash = sealed.content_hash;
        self.handler
            .sign_visit(id, &visit, &hash, Role::CaseHandler);
        let chunks = self.handler.store.visit_content_chunks(id, &visit, &hash)?;
        for (cosigner, role) in [
            (&mut self.leader, Role::TownshipLeader),
            (&mut self.cadre, Role::VillageCadre),
        ] {
            let mut scanner = ContentReceiver::expecting(hash);
            for chunk in &chunks {
                scanner.accept(chunk)?;
            }
            cosigner.store.receive_content(&scanner.finish()?)?;
            let keys = SigningKeys::new(cosigner.dir.path().join("signing-keys"));
            let response = cosigner.store.cosign(&hash, role, &keys, "device")?;
            let verdict = self
                .handler
                .store
                .import_signature_response(id, &visit, &hash, &response)?;
            if role == Role::VillageCadre && !verdict.is_complete() {
                return Err(format!("visit {visit} not complete: {:?}", verdict.status).into());
            }
        }
        Ok(())
    }

    /// The day's work on the changed households, offline.
    pub(crate) fn day_of_work(&mut self, picks: &[usize]) -> Res<Day> {
        let before = self.handler.store.unsynced_changes()?.0;
        let started = Instant::now();
        for &k in picks {
            let id = self.ids[k].clone();
            let village = self.handler.store.summary(&id)?.village_code;
            self.signed_visit(&id, &village, Purpose::PeriodicReview, at(2026, 11, 20))?;
            let care = self.care_visits[k].clone();
            for entry in CARE_HISTORY..CARE_HISTORY + CARE_TODAY {
                self.handler
                    .store
                    .edit_visit_draft(&id, &care, &care_entry(k, entry))?;
            }
            self.handler.store.edit_household(&id, |h| {
                h.profile.phone = Some(format!("137{:08}", k));
            })?;
        }
        Ok(Day {
            changes: self.handler.store.unsynced_changes()?.0 - before,
            elapsed: started.elapsed(),
        })
    }

    /// (a): one sync of the tablet, through the counting proxy, from a cold document cache.
    pub(crate) fn timed_sync(&mut self) -> Res<Measured> {
        self.handler.store.clear_cache();
        let transport = Timed::new(&self.proxy.url());
        self.proxy.reset();
        let started = Instant::now();
        let report = self.handler.sync_with(&transport)?;
        let elapsed = started.elapsed();
        check_accepted(&report, "timed sync")?;
        let (left, _) = self.handler.store.unsynced_changes()?;
        if left != 0 {
            return Err(format!("{left} changes left unsynced after the timed sync").into());
        }
        let calls = transport.calls.into_inner().map_err(|_| "poisoned")?;
        let mut pushed = Vec::new();
        let mut request_bodies = Vec::new();
        for call in &calls {
            if call.path == "/v1/sync" {
                pushed.extend(SyncRequest::decode(&envelope::open(&call.body, usize::MAX)?)?.push);
                request_bodies.push(call.body.clone());
            }
        }
        let raw_bytes: u64 = pushed
            .iter()
            .flat_map(|g| &g.changes)
            .map(|c| c.change.len() as u64)
            .sum();
        let proxy = self.proxy.snapshot();
        let split = Split::of(started, started + elapsed, &calls, &proxy);
        Ok(Measured {
            report,
            elapsed,
            wire_up: proxy.up,
            wire_down: proxy.down,
            raw_bytes,
            pushed,
            request_bodies,
            split,
        })
    }

    /// A reconnect with nothing changed.
    pub(crate) fn reconnect(&mut self) -> Res<Measured> {
        let transport = Timed::new(&self.proxy.url());
        self.proxy.reset();
        let started = Instant::now();
        let report = self.handler.sync_with(&transport)?;
        let elapsed = started.elapsed();
        let calls = transport.calls.into_inner().map_err(|_| "poisoned")?;
        let proxy = self.proxy.snapshot();
        let split = Split::of(started, started + elapsed, &calls, &proxy);
        Ok(Measured {
            report,
            elapsed,
            wire_up: proxy.up,
            wire_down: proxy.down,
            raw_bytes: 0,
            pushed: Vec::new(),
            request_bodies: Vec::new(),
            split,
        })
    }

    /// (b): every changed household's full document up, the same volume back down.
    pub(crate) fn naive_exchange(&mut self, ids: &[String]) -> Res<Naive> {
        // The documents as the tablet holds them (rebuilding them from the store's changes is
        // not timed: a naive tablet would save the document it loaded).
        self.handler.store.clear_cache();
        let mut load = Duration::ZERO;
        let mut save = Duration::ZERO;
        let mut docs = Vec::with_capacity(ids.len());
        let mut saves = Vec::with_capacity(ids.len());
        for id in ids {
            let t = Instant::now();
            let changes = self.handler.store.changes_since(id, &[])?;
            load += t.elapsed();
            let mut doc = AutoCommit::new();
            doc.apply_changes(
                changes
                    .into_iter()
                    .map(Change::from_bytes)
                    .collect::<Result<Vec<_>, _>>()?,
            )?;
            let t = Instant::now();
            saves.push(doc.save());
            save += t.elapsed();
            docs.push(doc);
        }
        let doc_bytes: u64 = saves.iter().map(|s| s.len() as u64).sum();
        let mut body = Vec::with_capacity(doc_bytes as usize + 4 * saves.len());
        for s in &saves {
            body.extend_from_slice(&(s.len() as u32).to_be_bytes());
            body.extend_from_slice(s);
        }
        let echo = EchoServer::start()?;
        let proxy = Proxy::start(echo.port)?;
        let transport = HttpTransport::new(&proxy.url());
        let t = Instant::now();
        let response = transport.request(
            "POST",
            "/documents",
            &[("Content-Type", "application/octet-stream".into())],
            &body,
        )?;
        let transfer = t.elapsed();
        if response.status != 200 || response.body != body {
            return Err("the echo endpoint did not return the documents".into());
        }
        // The tablet loads what came back and merges it into its documents.
        let t = Instant::now();
        let mut at = 0usize;
        for doc in &mut docs {
            let len = u32::from_be_bytes(response.body[at..at + 4].try_into()?) as usize;
            let mut theirs = AutoCommit::load(&response.body[at + 4..at + 4 + len])?;
            doc.merge(&mut theirs)?;
            at += 4 + len;
        }
        let merge = t.elapsed();
        let wire = proxy.snapshot();
        Ok(Naive {
            doc_bytes,
            wire_up: wire.up,
            wire_down: wire.down,
            load,
            save,
            transfer,
            merge,
        })
    }

    /// Ed25519 signatures of the pushed changes (made at write time, not during the sync).
    pub(crate) fn signing_cost(
        &self,
        pushed: &[ruhu_core::sync::HouseholdChanges],
    ) -> Res<(usize, Duration)> {
        let keys = SigningKeys::new(self.handler.dir.path().join("signing-keys"));
        let signer = WorkerSigner::open(&keys, "device")?.ok_or("no handler key")?;
        let cert = self.handler.certificate.hash();
        let mut hashes = Vec::new();
        for g in pushed {
            for c in &g.changes {
                hashes.push((
                    g.household_id.as_str(),
                    Change::from_bytes(c.change.clone())?.hash().0,
                ));
            }
        }
        let t = Instant::now();
        for (id, hash) in &hashes {
            std::hint::black_box(sign_change(&signer, cert, id, hash, Vec::new()));
        }
        Ok((hashes.len(), t.elapsed()))
    }
}

/// The 1-, 5- and 15-minute load averages (Linux), to judge how busy the 2 cores were.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub(crate) fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 30, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn check_accepted(report: &SyncReport, what: &str) -> Res<()> {
    if report.not_accepted.is_empty() && report.refused_pulled == 0 {
        Ok(())
    } else {
        Err(format!(
            "{what}: not accepted {:?}, refused pulled {}",
            report.not_accepted, report.refused_pulled
        )
        .into())
    }
}

/// N sample households of 3–6 members spread over the villages, with resident ID numbers
/// unique in the township (the fixtures repeat them beyond a few thousand members).
pub(crate) fn new_households(n: usize) -> Vec<NewHousehold> {
    let mut per_birth_date: HashMap<NaiveDate, u32> = HashMap::new();
    (0..n)
        .map(|i| {
            let mut h = fixtures::household(
                i as u64 + 1,
                &fixtures::village(i as u32 % VILLAGES),
                3 + i % 4,
            );
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

/// One care-log entry: task, done by, done at + note, elder present — written as one edit of
/// the open care visit's draft (4 answer keys, one signed change; see the workload document).
pub(crate) fn care_entry(household: usize, entry: usize) -> Vec<(String, Option<Json>)> {
    const TASKS: [&str; 4] = ["打扫卫生", "清洗衣物", "理发", "代购生活必需品"];
    const CAREGIVERS: [&str; 3] = ["护理员 马桂兰", "护理员 周德福", "护理员 何淑芬"];
    let done_at = format!(
        "{}-{:02}-{:02}",
        2024 + (entry / 12).min(2),
        entry % 12 + 1,
        (household + entry) % 28 + 1
    );
    [
        ("hardship_cause", json!(TASKS[entry % TASKS.len()])),
        ("supporters", json!(CAREGIVERS[(household + entry) % 3])),
        ("reason", json!(format!("{done_at} 已完成"))),
        ("member_present_signed", json!(entry & 1 == 0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect()
}
