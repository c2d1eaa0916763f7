// A field day through the generated Kotlin bindings, against the real sync server and the
// real county authority command: the authority certifies four workers and writes their
// enrollment bundles; three tablets (township leader, village cadre, case handler) import
// them; the case handler records a household and a visit, seals it; the two co-signers get
// the record through its QR codes with no network and answer with one-QR responses; the
// visit is complete on the case handler's tablet; everyone syncs with the server on
// loopback; a fourth tablet (the county supervisor) pulls and verifies the visit on its own;
// a tampered local-link export and bad input raise the documented exceptions. Back in the
// office, the team lead's view shows a conflict (resolved, gone everywhere after sync), the
// unsynced backlog and a visit waiting for signatures; after a reassignment, a synced
// household is purged from the leader's tablet while the cadre's unsynced one is kept.
// Between the two: a visit filled with the home-visit form, benefit amounts, an event
// recorded after the day it happened, the publicity list, and dispersed care — a person's
// plan logged on three tablets offline, the problem ledger and the leader's visits.
import uniffi.ruhu_ffi.*
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

fun ok(name: String) = println("ok - fieldday: $name")

inline fun <reified E : Throwable> assertThrows(what: String, block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing thrown")
}

val bin = System.getenv("RUHU_BIN_DIR") ?: error("RUHU_BIN_DIR is not set (scripts/kotlin-tests.sh sets it)")
val authorityDir: Path = Files.createTempDirectory("ruhu-authority")
val serverData: Path = Files.createTempDirectory("ruhu-server")
val tablets: Path = Files.createTempDirectory("ruhu-tablets")
val authorityKey = authorityDir.resolve("authority.key").toString()

fun run(vararg args: String): String {
    val process = ProcessBuilder(*args).redirectErrorStream(true).start()
    val out = process.inputStream.readBytes().decodeToString()
    check(process.waitFor() == 0) { "${args.joinToString(" ")} failed:\n$out" }
    return out
}

fun authority(vararg args: String): String = run("$bin/county-authority", *args)

// --- the county authority, on its own machine (here: its own folder) -----------------------
authority("init", "--key-file", authorityKey, "--county", "620102", "--key-id", "county-620102")
authority("public-key", "--key-file", authorityKey, "--out", serverData.resolve("authority-public-key.json").toString())

// --- the sync server on loopback -----------------------------------------------------------
val server = ProcessBuilder("$bin/sync-server", "--listen", "127.0.0.1:0", "--data-dir", serverData.toString())
    .redirectErrorStream(true).start()
val url: String = run {
    val lines = server.inputStream.bufferedReader()
    var found: String? = null
    while (found == null) {
        val line = lines.readLine() ?: error("sync-server exited")
        Regex("listening on (http://127\\.0\\.0\\.1:\\d+)").find(line)?.let { found = it.groupValues[1] }
    }
    Thread { runCatching { lines.forEachLine { } } }.apply { isDaemon = true }.start()
    found ?: error("no address")
}
val http = HttpClient.newHttpClient()
fun post(path: String, body: String): HttpResponse<String> = http.send(
    HttpRequest.newBuilder(URI.create(url + path)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
    HttpResponse.BodyHandlers.ofString(),
)
val insideServer = ProcessBuilder("$bin/county-authority", "init", "--key-file", serverData.resolve("x.key").toString(),
    "--county", "620102", "--key-id", "k").redirectErrorStream(true).start()
check(insideServer.waitFor() != 0) { "the authority key was written into the server's data folder" }
ok("sync-server started at $url; the authority key stays outside its data folder")

try {
    // --- tablets and their platform key stores --------------------------------------------
    class TabletKeys(seed: Int) : HostKeyStore {
        private val databaseKey = ByteArray(32) { (it * 13 + seed).toByte() }
        private val signing = mutableMapOf<String, ByteArray>()
        override fun databaseKey(storeId: String): ByteArray = databaseKey
        override fun loadSigningKey(keyId: String): ByteArray? = signing[keyId]
        override fun saveSigningKey(keyId: String, pkcs8: ByteArray) { signing[keyId] = pkcs8 }
    }

    val village = "620102001001"
    class Tablet(val workerId: String, val name: String, val role: String, seed: Int, countyScope: Boolean = false) {
        val keys = TabletKeys(seed)
        val path = tablets.resolve("$workerId.db").toString()
        var store = TabletStore.open(path, "tablet", workerId, keys)
        val publicKey = store.workerPublicKey("device")
        val certFile = authorityDir.resolve("$workerId.cert.json").toString()
        init {
            val scope = if (countyScope) arrayOf("--county-scope") else arrayOf("--villages", village)
            authority("certify", "--key-file", authorityKey, "--worker-id", workerId, "--name", name, "--roles", role,
                *scope, "--public-key", publicKey, "--valid-days", "365", "--out", certFile)
        }
        fun bundle(cert: String = certFile): String {
            val out = authorityDir.resolve("$workerId.enroll.json").toString()
            authority("enroll", "--key-file", authorityKey, "--server-url", url, "--server-pin", "loopback-plain",
                "--certificate", cert, "--out", out)
            return Files.readString(Path.of(out))
        }
        // The authority re-issues the certificate for other villages (a reassignment).
        fun recertify(villages: String): String {
            val out = authorityDir.resolve("$workerId.reassigned.cert.json").toString()
            authority("certify", "--key-file", authorityKey, "--worker-id", workerId, "--name", name, "--roles", role,
                "--villages", villages, "--public-key", publicKey, "--valid-days", "365", "--out", out)
            return out
        }
        fun sync(): SyncReportData = store.sync("0.1.0", null)
    }

    val leader = Tablet("w-leader", "王建军", "township_leader", 1)
    val cadre = Tablet("w-cadre", "李春梅", "village_cadre", 2)
    val handler = Tablet("w-handler", "张丽", "case_handler", 3)
    val supervisor = Tablet("w-county", "周敏", "county_supervisor", 4, countyScope = true)
    val everyone = listOf(leader, cadre, handler, supervisor)

    // The county configuration (certificates, policy, the working-day calendar and the county's
    // time zone) goes to the server, signed by the authority.
    val config = authorityDir.resolve("config.json").toString()
    val calendar = authorityDir.resolve("calendar.json")
    val thisYear = java.time.LocalDate.now().year
    Files.writeString(calendar, """{"format": 1, "label": "test calendar: weekends only", "years": [""" +
        (thisYear - 1..thisYear + 1).joinToString(", ") { """{"year": $it}""" } + "]}")
    val standards = authorityDir.resolve("standards.json")
    Files.writeString(standards, """{"format": 1, "label": "test standards", "regions": [{"region_code": "620100",""" +
        """ "region_name": "兰州市", "year": 2022, "urban_dibao": {"fen": 91400, "per": "month"}, "rural_dibao": {"fen": 526800, "per": "year"},""" +
        """ "rural_classes": {"class_1": {"fen": 350000, "per": "year"}, "class_2": {"fen": 330000, "per": "year"},""" +
        """ "class_3": {"fen": 100800, "per": "year"}, "class_4": {"fen": 69600, "per": "year"}},""" +
        """ "care_subsidy": {"self_care": {"fen": 180000, "per": "year"}, "partial_loss": {"fen": 361200, "per": "year"}, "complete_loss": {"fen": 541200, "per": "year"}}}]}""")
    val countyData = arrayOf("--calendar", calendar.toString(), "--standards", standards.toString(), "--utc-offset-seconds", "28800")
    authority("config", "--key-file", authorityKey, "--serial", "1", "--min-app-version", "0.1.0", "--valid-days", "30",
        *everyone.flatMap { listOf("--certificate", it.certFile) }.toTypedArray(), *countyData, "--out", config)
    check(post("/v1/config", Files.readString(Path.of(config))).statusCode() == 200)

    // Invalid input: a bundle that is not one, an insecure server.
    val bad = assertThrows<FfiException.InvalidInput>("not a bundle") { handler.store.enroll("{\"format\":1}", "device") }
    check(bad.problems.single().code == "enrollment.malformed") { "$bad" }
    val insecure = handler.bundle().replace("http://127.0.0.1", "http://10.0.0.1")
    val plain = assertThrows<FfiException.InvalidInput>("plain http off loopback") { handler.store.enroll(insecure, "device") }
    check(plain.problems.single().code == "enrollment.insecure_server") { "$plain" }
    val notEnrolled = assertThrows<FfiException.NotPermitted>("sync before enrollment") { handler.sync() }
    check(notEnrolled.code == "sync.not_enrolled") { notEnrolled.code }
    for (t in everyone) {
        val enrolled = t.store.enroll(t.bundle(), "device")
        check(enrolled.workerId == t.workerId && enrolled.countyCode == "620102" && enrolled.serverUrl == url)
        check(enrolled.serverTlsPin == "loopback-plain")
    }
    val foreign = assertThrows<FfiException.InvalidInput>("someone else's bundle") { handler.store.enroll(leader.bundle(), "device") }
    check(foreign.problems.single().code == "identity.key_mismatch") { "$foreign" }
    for (t in everyone) check(t.sync().configSerial == 1uL)
    ok("four tablets enrolled with bundles from county-authority and fetched the signed county configuration")

    // --- the case handler's household and visit ---------------------------------------------
    fun idNumber(first17: String): String {
        val weights = intArrayOf(7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        val sum = first17.mapIndexed { i, c -> (c - '0') * weights[i] }.sum()
        return first17 + "10X98765432"[sum % 11]
    }
    fun member(name: String, relation: String, birth: String, seq: String) = MemberData(
        memberId = "", name = name, idNumber = idNumber("620102" + birth.replace("-", "") + seq), relation = relation,
        birthDate = birth, health = "healthy", disability = "none", disabilityGrade = null, labourAbility = "full",
    )
    val household = handler.store.createHousehold(HouseholdData(
        id = "", countyCode = "620102", townshipCode = "620102001", villageCode = village, address = "一组 12 号",
        headMemberId = "", status = "applicant", statusSince = "2026-11-01", phone = null, program = "rural_dibao",
        dibaoClass = 2u, enrollmentStart = null, enrollmentEnd = null,
        members = listOf(member("刘德福", "head", "1968-03-04", "011"), member("陈秀兰", "spouse", "1970-07-08", "022"),
            member("刘小军", "child", "2008-09-10", "031"), member("刘小红", "child", "2014-01-02", "042")),
    ))
    val hh = household.household.id
    val team = listOf(leader, cadre, handler).map { TeamMemberData(workerId = it.workerId, role = it.role) }
    val visitId = handler.store.startVisit(hh, "new_application", team)
    val answers = listOf(
        AnswerData("income_wages_fen", "1860000"), AnswerData("income_transfer_net_fen", "312000"),
        AnswerData("living_housing", "\"difficult\""), AnswerData("hardship_cause", "\"户主患慢性病，长期服药。\""),
        AnswerData("member_present_signed", "true"), AnswerData("conclusion", "\"eligible\""),
        AnswerData("reason", "\"家庭人均收入低于当地农村低保标准。\""),
    )
    handler.store.editVisitDraft(hh, visitId, answers)
    // A photo of the household's documents: bytes in, a hash out (kept encrypted in the store).
    val photo = ByteArray(250_000) { ((it * 31) % 251).toByte() }
    val photoHash = handler.store.addAttachment(hh, photo)
    check(handler.store.addAttachment(hh, photo) == photoHash) { "the same photo is stored once" }
    assertThrows<FfiException.InvalidInput>("an empty attachment") { handler.store.addAttachment(hh, ByteArray(0)) }
    val sealed = handler.store.sealVisit(hh, visitId, SealData(
        place = PlaceData(villageCode = village, address = "一组 12 号", gps = null), visitedAtUnix = 1_795_000_000,
        attachmentHashesHex = listOf(photoHash),
    ))
    val hash = sealed.contentHashHex
    handler.store.signVisit(hh, visitId, hash, "case_handler", "device")
    ok("case handler recorded household ${hh.take(8)}… and sealed visit ${visitId.take(8)}… (${hash.take(12)}…)")

    // --- co-signing in the household, no network --------------------------------------------
    val chunks = handler.store.visitContentChunks(hh, visitId, hash)
    for ((i, t) in listOf(leader, cadre).withIndex()) {
        val receiver = CoSignReceiver.expecting(t.store, hash)
        (chunks + chunks.take(1)).shuffled(java.util.Random(i.toLong())).forEach { receiver.accept(it) }
        check(receiver.finish().contentHashHex == hash)
        val response = t.store.cosign(hash, t.role, "device")
        handler.store.importSignatureResponse(hh, visitId, hash, response)
    }
    val complete = handler.store.verifyVisit(hh, visitId)
    check(complete.status == "complete" && complete.signers.size == 3 && complete.signers.all { it.verdict == "signer.valid" }) { "$complete" }
    ok("co-signed through ${chunks.size} QR code(s) and two one-QR responses: ${complete.status}")

    // --- sync with the server ----------------------------------------------------------------
    check(handler.store.unsyncedChanges().changes > 0uL)
    val pushed = handler.sync()
    // The photo goes first (a status request, then one chunk), then the one sync round trip.
    check(pushed.roundTrips == 3u && pushed.notAccepted.isEmpty() && pushed.pushedChanges > 0uL) { "$pushed" }
    check(pushed.attachmentsUploaded == 1uL && pushed.attachmentBytesSent == photo.size.toULong()) { "$pushed" }
    check(handler.store.unsyncedChanges().changes == 0uL)
    for (t in listOf(leader, cadre, supervisor)) {
        val pulled = t.sync()
        // The sync round trip, then the photo the pulled visit lists.
        check(pulled.roundTrips == 2u && pulled.pulledChanges > 0uL && pulled.refusedPulled == 0uL) { "${t.workerId}: $pulled" }
        check(pulled.attachmentsFetched == 1uL && t.store.attachment(photoHash).contentEquals(photo)) { "${t.workerId}: $pulled" }
    }
    val onSupervisor = supervisor.store.verifyVisit(hh, visitId)
    check(onSupervisor.status == "complete" && onSupervisor.signers.map { it.workerId }.toSet() == setOf("w-leader", "w-cadre", "w-handler")) { "$onSupervisor" }
    check(supervisor.store.household(hh).household == handler.store.household(hh).household)
    check(leader.store.visitsComplete(village).single().visitId == visitId)
    val again = handler.sync()
    check(again.roundTrips == 1u && again.pushedChanges == 0uL && again.pulledChanges == 0uL && again.bytesReceived < 2048uL) { "$again" }
    ok("synced through the server: pushed ${pushed.pushedChanges} changes and a ${photo.size}-byte photo in ${pushed.bytesSent} bytes; the supervisor's tablet verifies the visit as complete; a quiet reconnect is one round trip of ${again.bytesSent + again.bytesReceived} bytes")

    // --- an edit on one tablet reaches the others; restart resumes signing ------------------
    val view = cadre.store.household(hh)
    cadre.store.updateHousehold(view.household.copy(address = "一组 12 号（新址）"), view.heads)
    cadre.store.close()
    cadre.store = TabletStore.open(cadre.path, "tablet", "w-cadre", cadre.keys)
    check(cadre.store.resumeSigning())
    check(cadre.sync().notAccepted.isEmpty())
    handler.sync()
    check(handler.store.household(hh).household.address == "一组 12 号（新址）")
    ok("an edit made before an app restart is signed after resumeSigning() and reaches the case handler")

    // --- the local link, and a tampered record ------------------------------------------------
    val export = handler.store.exportHousehold(hh, emptyList())
    val before = leader.store.household(hh)
    val tampered = export.copyOf().also { it[it.size - 20] = (it[it.size - 20].toInt() xor 0x40).toByte() }
    val flagged = assertThrows<FfiException>("tampered export") { leader.store.importHousehold(tampered) }
    check(flagged is FfiException.SignatureProblem || flagged is FfiException.InvalidInput) { "$flagged" }
    val code = (flagged as? FfiException.SignatureProblem)?.code ?: (flagged as FfiException.InvalidInput).code
    println("fieldday: tampered export refused with $code")
    check(leader.store.household(hh) == before) { "nothing changed" }
    val linked = leader.store.importHousehold(export)
    check(linked.household == handler.store.household(hh).household) { "the intact export brings the cadre's edit" }
    ok("a tampered local-link export is refused ($code) and changes nothing; the intact one imports")

    // --- the home-visit form and the life of a case -----------------------------------------
    val formAnswers = """{"members": [{"name": "王秀英", "id_number": "620102195001011234", "relation": "head", "age": 200}]}"""
    val formProblems = handler.store.checkAnswers("home-visit", formAnswers)
    check(formProblems.any { it.question == "id_number" && it.roster == "members" && it.row == 0u && it.code.startsWith("resident_id") }) { "$formProblems" }
    check(formProblems.any { it.question == "age" && it.row == 0u } && formProblems.all { it.messageZh.isNotEmpty() && it.messageEn.isNotEmpty() }) { "$formProblems" }
    assertThrows<FfiException.NotFound>("unknown template") { handler.store.checkAnswers("no-such-form", "{}") }
    // Scoring: the county's rural standard (Lanzhou 2022: 5,268 yuan a year), then the SAMPLE
    // "3+1" rubric refuses a form that does not pass its template.
    val standardFen = handler.store.dibaoStandardFen(2022, true)
    check(standardFen == 526_800L) { "$standardFen" }
    val params = """{"standard_fen": $standardFen, "appraisal": "passed"}"""
    val unscored = assertThrows<FfiException.InvalidInput>("scoring an invalid form") { handler.store.scoreAnswers("sample-3plus1", formAnswers, params) }
    check(unscored.problems.any { it.field.contains("id_number") }) { "$unscored" }
    handler.store.recordCaseEvent(hh, """{"kind": "apply", "program": "rural_dibao"}""")
    val accepted = handler.store.recordCaseEvent(hh, """{"kind": "accept", "missing_materials": ["户口簿"]}""")
    check(accepted.stage == "accepted" && accepted.missingMaterials == listOf("户口簿")) { "$accepted" }
    assertThrows<FfiException.InvalidInput>("accept twice") {
        handler.store.recordCaseEvent(hh, """{"kind": "accept", "missing_materials": []}""")
    }
    val duties = handler.store.casesDue(village).filter { it.householdId == hh }
    val due = duties.single { it.duty == "start_investigation" }
    check(!due.overdue && duties.none { it.overdue }) { "$duties" }
    ok("the home-visit form names each bad answer (${formProblems.size} problems, zh + en); the case is ${accepted.stage}, investigation due by ${due.dueOn}")
    // A visit filled with the home-visit form keeps the version it started with; unfinished
    // answers wait for the seal, wrong ones are refused naming the roster row.
    val formVisit = handler.store.startVisitWithForm(hh, "periodic_review", team, "home-visit")
    check(handler.store.visit(hh, formVisit).let { it.templateId == "home-visit" && it.templateVersion == 1u && it.templateHashHex.length == 64 })
    val wrongForm = assertThrows<FfiException.InvalidInput>("a wrong ID number in the form") { handler.store.setVisitAnswers(hh, formVisit, formAnswers) }
    check(wrongForm.problems.any { it.field == "draft.members[0].id_number" }) { "$wrongForm" }
    handler.store.setVisitAnswers(hh, formVisit, """{"visit_place": "一组 12 号", "visit_mode": "in_person"}""")
    check(handler.store.visitAnswers(hh, formVisit).contains("in_person"))
    val unfinished = assertThrows<FfiException.InvalidInput>("sealing an unfinished form") {
        handler.store.sealVisit(hh, formVisit, SealData(place = PlaceData(villageCode = village, address = "一组 12 号", gps = null), visitedAtUnix = 1_796_000_000))
    }
    check(unfinished.problems.any { it.field == "draft.conclusion" && it.code == "form.required" }) { "$unfinished" }
    // Amounts from the county's standards: gap mode (Lanzhou 2022 rural, 439 yuan a month;
    // income 3,600 yuan a year for 4 persons = 75 yuan a month each) and class mode (class 2
    // of the test standards, 3,300 yuan a year = 275 yuan a month per person).
    val gap = handler.store.householdBenefitGap(hh, 2022, true, 360_000L)
    check(gap.mode == "gap_to_standard" && gap.members == 4u && gap.perPersonMonthlyFen == 36_400L && gap.monthlyFen == 145_600L) { "$gap" }
    val byClass = handler.store.householdBenefitByClass(hh, 2022, 2u)
    check(byClass.mode == "fixed_by_class" && byClass.monthlyFen == 110_000L) { "$byClass" }
    assertThrows<FfiException.InvalidInput>("class 5") { handler.store.householdBenefitByClass(hh, 2022, 5u) }
    // The investigation started when the case was accepted, recorded now; then publicity.
    assertThrows<FfiException.InvalidInput>("dated before the stage began") {
        handler.store.recordCaseEventAt(hh, """{"kind": "start_investigation"}""", accepted.stageSinceUnix!! - 86_400L)
    }
    handler.store.recordCaseEventAt(hh, """{"kind": "start_investigation"}""", accepted.stageSinceUnix!!)
    handler.store.recordCaseEvent(hh, """{"kind": "complete_investigation"}""")
    val inPublicity = handler.store.recordCaseEvent(hh, """{"kind": "township_opinion", "eligible": true, "proposal": {"monthly_fen": ${gap.monthlyFen}, "household_size": 4}, "reason": "人均收入低于标准"}""")
    check(inPublicity.stage == "publicity") { "$inPublicity" }
    check(handler.store.publicityList(village) == listOf(PublicityLineData(name = "刘德福", householdSize = 4u, monthlyFen = 145_600L)))
    val csv = handler.store.publicityCsv(village)
    check(csv == "户主姓名,保障人数,月保障金额(元)\n刘德福,4,1456.00\n") { csv }
    ok("a home-visit form visit (v${handler.store.visit(hh, formVisit).templateVersion}) refuses a wrong ID and an unfinished seal; benefit ${gap.monthlyFen} fen/month (gap) or ${byClass.monthlyFen} (class 2); publicity lists only name, size and amount")

    // --- dispersed care: plan, log on three tablets offline, problem ledger, leader visits ---
    val today = java.time.LocalDate.now(java.time.ZoneOffset.ofHours(8))
    val person = handler.store.household(hh).household.members.first { it.name == "刘德福" }.memberId
    fun care(t: Tablet, json: String) = t.store.recordCareEvent(hh, json)
    care(handler, """{"kind": "enrolled", "person_id": "$person", "since": "${today.minusDays(60)}"}""")
    val activities = """{"eating": true, "dressing": true, "getting_in_out_of_bed": true, "toileting": true, "walking_indoors": false, "bathing": false}"""
    val assessed = care(handler, """{"kind": "assessed", "person_id": "$person", "on": "$today", "activities": $activities}""")
    check(assessed.selfCareLevel == "partial_loss" && assessed.inCare) { "$assessed" }
    check(assessed.tasks.map { it.taskId }.toSet() == setOf("clean_home", "wash_clothes_bedding", "haircut", "buy_daily_necessities")) { "${assessed.tasks}" }
    check(handler.store.nursingSubsidyFen(hh, person, 2022) == 361_200L)
    assertThrows<FfiException.InvalidInput>("an assessment without its activities") {
        care(handler, """{"kind": "assessed", "person_id": "$person", "on": "$today"}""")
    }
    care(handler, """{"kind": "leader_assigned", "person_id": "$person", "leader_id": "w-leader", "leader_name": "王强", "from": "${today.minusDays(60)}"}""")
    for (t in listOf(handler, leader, cadre)) check(t.sync().notAccepted.isEmpty())
    check(handler.store.overdueLeaderVisits(village, null).any { it.personId == person && it.leaderId == "w-leader" })
    // Offline: the cadre and the case handler both log this week's cleaning (one period, done
    // once), the leader logs a haircut and the visit; the cadre opens a problem with a photo.
    val now = java.time.Instant.now().toString()
    fun done(t: Tablet, task: String, note: String) =
        care(t, """{"kind": "task_done", "person_id": "$person", "task_id": "$task", "done_at": "$now", "note": "$note", "photos": []}""")
    done(cadre, "clean_home", "打扫卫生")
    done(handler, "clean_home", "又打扫了一次")
    done(leader, "haircut", "理发")
    care(leader, """{"kind": "leader_visited", "person_id": "$person", "leader_id": "w-leader", "visited_on": "$today", "note": "走访", "photos": []}""")
    val stovePhoto = cadre.store.addAttachment(hh, ByteArray(4_000) { (it % 199).toByte() })
    val problemId = cadre.store.newCareId()
    care(cadre, """{"kind": "problem_opened", "person_id": "$person", "problem_id": "$problemId", "area": "heating", "description": "炉子漏烟", "evidence": ["$stovePhoto"]}""")
    for (t in listOf(cadre, handler, leader, cadre, handler)) check(t.sync().notAccepted.isEmpty())
    val records = listOf(leader, cadre, handler).map { it.store.careRecord(hh, person, null) }
    check(records.all { it.log.size == 3 } && records.map { r -> r.log.map { it.eventId }.toSet() }.toSet().size == 1) { "$records" }
    check(records.map { r -> r.tasks.map { it.taskId to it.status.state } }.toSet().size == 1) { "${records.map { it.tasks }}" }
    val tasks = records[0].tasks.associateBy { it.taskId }
    check(tasks.getValue("clean_home").status.state == "done" && tasks.getValue("haircut").status.state == "done") { "$tasks" }
    check(tasks.getValue("wash_clothes_bedding").status.state == "overdue") { "$tasks" }
    val overdue = handler.store.overdueCareTasks(village, null).filter { it.personId == person }.map { it.taskId }
    check("wash_clothes_bedding" in overdue && "clean_home" !in overdue) { "$overdue" }
    // Two weeks on, with nothing logged since, the weekly cleaning is overdue too.
    val later = handler.store.careRecord(hh, person, today.plusDays(14).toString())
    check(later.tasks.single { it.taskId == "clean_home" }.status.state == "overdue") { "${later.tasks}" }
    check(handler.store.overdueLeaderVisits(village, null).none { it.personId == person })
    // The problem reached everyone; it closes only with a rectification record with evidence.
    check(leader.store.openCareProblems(village).single().problemId == problemId)
    check(leader.store.attachment(stovePhoto).size == 4_000) { "the problem's photo travelled with it" }
    assertThrows<FfiException.InvalidInput>("a rectification without evidence") {
        care(leader, """{"kind": "problem_rectified", "person_id": "$person", "problem_id": "$problemId", "rectification": {"rectified_by": "王强", "rectified_on": "$today", "action": "换了新炉子", "evidence": []}}""")
    }
    val fixedPhoto = leader.store.addAttachment(hh, ByteArray(4_000) { (it % 197).toByte() })
    val fixed = care(leader, """{"kind": "problem_rectified", "person_id": "$person", "problem_id": "$problemId", "rectification": {"rectified_by": "王强", "rectified_on": "$today", "action": "换了新炉子", "evidence": ["$fixedPhoto"]}}""")
    check(fixed.problems.single().let { !it.open && it.historySteps == 2u }) { "${fixed.problems}" }
    for (t in listOf(leader, cadre, handler)) check(t.sync().notAccepted.isEmpty())
    check(listOf(leader, cadre, handler).all { it.store.openCareProblems(village).isEmpty() })
    ok("care of ${person.take(8)}…: ${records[0].log.size} log entries identical on three tablets (the week's cleaning logged twice counts once), wash overdue, the leader's visit recorded, the stove problem closed only with evidence")

    // --- back in the office: the team lead's view ------------------------------------------
    for (t in listOf(leader, cadre, handler)) t.sync()
    check(leader.store.officeView(village).backlog.unsyncedChanges == 0uL)
    for ((t, address) in listOf(leader to "一组 12 号（东屋）", cadre to "一组 12 号（西屋）")) {
        val v = t.store.household(hh)
        t.store.updateHousehold(v.household.copy(address = address), v.heads)
    }
    val waiting = leader.store.officeView(null).backlog
    check(waiting.workerId == "w-leader" && waiting.unsyncedChanges >= 1uL && waiting.households == 1uL) { "$waiting" }
    check(waiting.oldestUnsyncedUnix != null && waiting.oldestAgeSeconds != null && waiting.oldestAgeSeconds!! >= 0L) { "$waiting" }
    check(cadre.sync().notAccepted.isEmpty())
    check(leader.sync().notAccepted.isEmpty())
    val office = leader.store.officeView(village)
    check(office.backlog.unsyncedChanges == 0uL && office.backlog.oldestAgeSeconds == null) { "${office.backlog}" }
    val inConflict = office.conflicts.single()
    check(inConflict.householdId == hh && inConflict.villageCode == village && inConflict.headName == "刘德福") { "$inConflict" }
    val address = inConflict.conflicts.single()
    check(address.field == "profile.address") { address.field }
    check(address.values.map { it.author to it.valueJson }.toSet() ==
        setOf("w-leader" to "\"一组 12 号（东屋）\"", "w-cadre" to "\"一组 12 号（西屋）\"")) { "$address" }
    check(address.values.all { it.timeUnix > 1_700_000_000L })
    leader.store.resolveConflict(hh, "profile.address", "\"一组 12 号（东屋）\"")
    check(leader.store.officeView(village).conflicts.isEmpty())
    leader.sync()
    cadre.sync()
    check(cadre.store.officeView(null).conflicts.isEmpty() && cadre.store.household(hh).household.address == "一组 12 号（东屋）")
    ok("the team lead sees the address conflict with both values, who wrote each and when, resolves it, and it is gone on the cadre's tablet after sync")

    val second = handler.store.startVisit(hh, "periodic_review", team)
    handler.store.editVisitDraft(hh, second, answers)
    val secondHash = handler.store.sealVisit(hh, second, SealData(
        place = PlaceData(villageCode = village, address = "一组 12 号", gps = null), visitedAtUnix = 1_796_000_000,
    )).contentHashHex
    handler.store.signVisit(hh, second, secondHash, "case_handler", "device")
    val awaiting = handler.store.officeView(village).awaitingSignatures.single()
    check(awaiting.visitId == second && awaiting.missingSigners.map { it.workerId }.toSet() == setOf("w-leader", "w-cadre")) { "$awaiting" }
    ok("the office view lists the review visit as waiting for the leader's and the cadre's signatures")

    // --- reassignment: the leader and the cadre move to another village ----------------------
    val otherVillage = "620102001002"
    val leaderMoved = leader.recertify(otherVillage)
    val cadreMoved = cadre.recertify(otherVillage)
    authority("config", "--key-file", authorityKey, "--serial", "2", "--min-app-version", "0.1.0", "--valid-days", "30",
        *(everyone.map { it.certFile } + listOf(leaderMoved, cadreMoved)).flatMap { listOf("--certificate", it) }.toTypedArray(),
        *countyData, "--out", config)
    check(post("/v1/config", Files.readString(Path.of(config))).statusCode() == 200)
    // The cadre still has an edit the server has not seen: kept, and refused once out of scope.
    val c = cadre.store.household(hh)
    cadre.store.updateHousehold(c.household.copy(phone = "13800000000"), c.heads)
    for ((t, cert) in listOf(leader to leaderMoved, cadre to cadreMoved)) t.store.enroll(t.bundle(cert), "device")
    val early = cadre.store.purgeOutOfScope()
    check(early.purged.isEmpty() && early.kept.single().householdId == hh && early.kept.single().reason == "purge.unsynced_changes") { "$early" }
    val refused = cadre.sync()
    check(refused.notAccepted.single().code == "sync.out_of_scope") { "$refused" }
    val keptReason = refused.purge!!.kept.single()
    check(keptReason.householdId == hh && keptReason.reason == "purge.not_accepted" && keptReason.unsyncedChanges >= 1uL) { "$keptReason" }
    val rejectedView = cadre.store.officeView(null).notAccepted.single()
    check(rejectedView.householdId == hh && rejectedView.kind == "rejected" && rejectedView.code == "sync.out_of_scope" && rejectedView.canRebase) { "$rejectedView" }
    check(cadre.store.household(hh).household.phone == "13800000000")
    ok("the cadre's unsynced edit keeps the household (${early.kept.single().reason}, then ${keptReason.reason}: ${rejectedView.code})")
    // The leader had synced everything: the next sync purges the household.
    val purged = leader.sync()
    check(purged.purge!!.purged == listOf(hh) && purged.purge!!.kept.isEmpty() && purged.purge!!.walTruncated) { "$purged" }
    assertThrows<FfiException.NotFound>("purged household") { leader.store.household(hh) }
    check(leader.store.listVillage(village, null, null).isEmpty())
    check(leader.store.findByIdNumber(listOf(village), household.household.members.first().idNumber).isEmpty())
    check(leader.store.officeView(null).let { it.conflicts.isEmpty() && it.awaitingSignatures.isEmpty() && it.backlog.unsyncedChanges == 0uL })
    val again2 = leader.store.purgeOutOfScope()
    check(again2.purged.isEmpty() && again2.kept.isEmpty())
    ok("after the reassignment the leader's sync purged household ${hh.take(8)}… (synced, out of scope)")
} finally {
    server.destroy()
    server.waitFor(10, TimeUnit.SECONDS)
}
println("fieldday: all checks passed")
