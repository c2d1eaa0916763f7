// JVM unit test of the Android module: the steps of the Kotlin scripts CI runs on the desktop
// JVM (ffi/tests/kotlin/smoke.kts, cosign.kts and fieldday.kts, through scripts/kotlin-tests.sh)
// as JUnit4 tests, one @Test per script, in the same order with the same checks.
//
// How it runs: `./gradlew testDebugUnitTest` (Android Studio's environment). Gradle builds the
// desktop library with the `test-support` feature, uniffi-bindgen, sync-server and
// county-authority (cargoBuildHost), generates bindings with TestAuthority in the package
// uniffi.ruhu_ffi.testsupport (the shipped uniffi.ruhu_ffi has no test code), and runs this
// class on the desktop JVM with jna.library.path and RUHU_BIN_DIR pointing at target/debug.
//
// It was NOT run by Gradle on the machine that wrote it: there is no Android SDK or Gradle
// Android plugin there. There, `scripts/check-mobile-packages.sh --run-jvm-tests` compiles this
// very file with kotlinc against the same test-support bindings and runs it with JUnit on the
// desktop JVM; `.ci/run` only checks that every binding it calls exists.
//
// Mirrors (sha256 of the scripts when this file was last brought in line with them; the check
// script warns when a script has changed since):
//   smoke.kts    sha256:e3ed320865c68891176b06ee82af01797007d09f5dc0f118a6a2e4aef4d58067
//   cosign.kts   sha256:d32cd7507d5c0ce458502f3c57f7bc7d0472a0848987728373cb759027b1956e
//   fieldday.kts sha256:7013f5f8d4ea8e952401fa6ba38d2d98fd1aa89b00bdff72abbca7c127a920da
package org.ruhu.core

import org.junit.Test
import uniffi.ruhu_ffi.testsupport.*
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

private fun ok(test: String, name: String) = println("ok - $test: $name")

private inline fun <reified E : Throwable> assertThrows(what: String, block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing thrown")
}

// GB 11643 check character for 17 digits.
private fun idNumber(first17: String): String {
    val weights = intArrayOf(7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    val checks = "10X98765432"
    val sum = first17.mapIndexed { i, c -> (c - '0') * weights[i] }.sum()
    return first17 + checks[sum % 11]
}

private fun member(name: String, relation: String, birth: String, seq: String) = MemberData(
    memberId = "", name = name, idNumber = idNumber("620102" + birth.replace("-", "") + seq),
    relation = relation, birthDate = birth, health = "healthy", disability = "none",
    disabilityGrade = null, labourAbility = "full",
)

class FieldDayTest {

    // ---------------------------------------------------------------------------------------
    // smoke.kts: open an encrypted store with a Kotlin key store, create and list households,
    // read one back, edit it, typed exceptions for bad input, a wrong key and a locked store.
    // ---------------------------------------------------------------------------------------

    // A Kotlin implementation of the host key store (on Android: keys wrapped by the Keystore).
    private class TestKeyStore(private val key: ByteArray?) : HostKeyStore {
        val asked = mutableListOf<String>()
        private val signingKeys = mutableMapOf<String, ByteArray>()
        override fun databaseKey(storeId: String): ByteArray {
            asked += storeId
            return key ?: throw KeyStoreException.Locked()
        }
        override fun loadSigningKey(keyId: String): ByteArray? = signingKeys[keyId]
        override fun saveSigningKey(keyId: String, pkcs8: ByteArray) {
            signingKeys[keyId] = pkcs8
        }
    }

    private fun household(village: String, head: String, seq: Int) = HouseholdData(
        id = "", countyCode = "620102", townshipCode = "620102001", villageCode = village,
        address = "一组 12 号", headMemberId = "", status = "active", statusSince = "2024-01-01",
        phone = null, program = "rural_dibao", dibaoClass = 2u, enrollmentStart = "2024-01-01",
        enrollmentEnd = null,
        members = listOf(
            member(head, "head", "1956-03-04", "%03d".format(seq * 2)),
            member("李建国", "spouse", "1955-07-08", "%03d".format(seq * 2 + 1)),
        ),
    )

    @Test
    fun smoke() {
        fun ok(name: String): Unit = ok("smoke", name)
        val dir = Files.createTempDirectory("ruhu-smoke")
        val path = dir.resolve("tablet.db").toString()
        val keys = TestKeyStore(ByteArray(32) { (it * 7).toByte() })
        val village = "620102001001"

        TabletStore.open(path, "tablet", "worker-kotlin", keys).use { store ->
            check(keys.asked == listOf("tablet")) { "key store not asked: ${keys.asked}" }
            ok("opened an encrypted store with a Kotlin HostKeyStore")

            val a = store.createHousehold(household(village, "王秀英", 1))
            val b = store.createHousehold(household(village, "张桂兰", 2))
            store.createHousehold(household("620102001002", "刘海燕", 3))
            check(a.household.id.length == 32 && a.household.members.size == 2) { "created: $a" }
            check(a.heads.size == 1 && a.conflicts.isEmpty() && a.problems.isEmpty()) { "view: $a" }
            ok("created households ${a.household.id.take(8)}…, ${b.household.id.take(8)}…")

            val listed = store.listVillage(village, null, null)
            check(listed.map { it.headName }.sorted() == listOf("张桂兰", "王秀英")) { "listed: $listed" }
            check(listed.all { it.memberCount == 2u && it.program == "rural_dibao" && !it.hasConflicts })
            check(store.listVillage(village, "urban_dibao", null).isEmpty())
            ok("listed village $village: ${listed.map { it.headName }}")

            val found = store.searchByName(listOf(village), "秀英")
            check(found.map { it.id } == listOf(a.household.id)) { "search: $found" }
            val byId = store.findByIdNumber(listOf(village), a.household.members[0].idNumber)
            check(byId.size == 1 && byId[0].id == a.household.id) { "id search: $byId" }
            ok("searched by name and by ID number")

            val edited = a.household.copy(address = "二组 3 号")
            val saved = store.updateHousehold(edited, a.heads)
            check(saved.household.address == "二组 3 号" && saved.heads != a.heads)
            check(store.household(a.household.id).household.address == "二组 3 号")
            ok("edited and read back")

            // Invalid input: a wrong check digit and an unknown class, with field paths and codes.
            val good = a.household.members[1].idNumber
            val badMember = a.household.members[1].copy(idNumber = good.dropLast(1) + (if (good.last() == '0') '1' else '0'))
            val e = assertThrows<FfiException.InvalidInput>("bad ID") {
                store.updateHousehold(saved.household.copy(members = listOf(a.household.members[0], badMember), dibaoClass = 9u), saved.heads)
            }
            val codes = e.problems.map { it.code }.toSet()
            check("resident_id.check_digit" in codes && "range" in codes) { "codes: ${e.problems}" }
            check(e.problems.any { it.field == "enrollment.dibao_class" && it.params["max"] == "4" })
            check(e.code == "validation")
            check(store.household(a.household.id).household.members[1].idNumber == a.household.members[1].idNumber)
            ok("invalid edit -> FfiException.InvalidInput ${e.problems.map { "${it.field}:${it.code}" }}; nothing changed")

            val badCode = assertThrows<FfiException.InvalidInput>("unknown code") {
                store.createHousehold(household(village, "赵德福", 4).copy(status = "rich"))
            }
            check(badCode.problems.single().field == "status" && badCode.problems.single().code == "code.unknown")
            assertThrows<FfiException.NotFound>("missing household") { store.household("0".repeat(32)) }
            ok("unknown code and unknown household raise their documented exceptions")
        }

        // Reopen with the right key; a wrong key and a locked key store are distinct exceptions.
        TabletStore.open(path, "tablet", "worker-kotlin", keys).use { store ->
            check(store.listVillage(village, null, null).size == 2)
        }
        val wrong = assertThrows<FfiException.Storage>("wrong key") {
            TabletStore.open(path, "tablet", "w", TestKeyStore(ByteArray(32) { 1 })).close()
        }
        check(wrong.code == "store.wrong_key") { "code: ${wrong.code}" }
        assertThrows<FfiException.KeyStoreLocked>("locked") { TabletStore.open(path, "tablet", "w", TestKeyStore(null)).close() }
        ok("wrong key -> Storage(store.wrong_key); locked key store -> KeyStoreLocked")
        check(libraryVersion().isNotEmpty())
        println("smoke: all checks passed")
    }

    // ---------------------------------------------------------------------------------------
    // cosign.kts: a signed home visit on three tablets with no network (QR chunks and one-QR
    // responses), the refusals, and a fourth store that verifies the visit on its own.
    // ---------------------------------------------------------------------------------------

    // The platform key store of one tablet: the database key and the wrapped signing key.
    private class TabletKeys(seed: Int) : HostKeyStore {
        private val databaseKey = ByteArray(32) { (it * 11 + seed).toByte() }
        val signingKeys = mutableMapOf<String, ByteArray>()
        val saved = mutableListOf<String>()
        var locked = false
        override fun databaseKey(storeId: String): ByteArray = databaseKey
        override fun loadSigningKey(keyId: String): ByteArray? {
            if (locked) throw KeyStoreException.Locked()
            return signingKeys[keyId]
        }
        override fun saveSigningKey(keyId: String, pkcs8: ByteArray) {
            if (locked) throw KeyStoreException.Locked()
            saved += keyId
            signingKeys[keyId] = pkcs8
        }
    }

    @Test
    fun cosign() {
        fun ok(name: String): Unit = ok("cosign", name)
        val village = "620102001001"
        val dir = Files.createTempDirectory("ruhu-cosign")
        val authority = TestAuthority("620102")
        check(authority.keyId() == "county-620102" && authority.publicKeyHex().length == 64)

        class Tablet(val workerId: String, val name: String, val role: String, seed: Int) {
            val keys = TabletKeys(seed)
            val store = TabletStore.open(dir.resolve("$workerId.db").toString(), workerId, workerId, keys)
            val publicKey = store.workerPublicKey("tablet")
            val certJson = authority.certify(workerId, name, listOf(role), listOf(village), publicKey, 365u)
        }

        val leader = Tablet("w-leader", "王建军", "township_leader", 1)
        val cadre = Tablet("w-cadre", "李春梅", "village_cadre", 2)
        val handler = Tablet("w-handler", "张丽", "case_handler", 3)
        val team = listOf(leader, cadre, handler)

        // --- device keys -----------------------------------------------------------------------
        for (t in team) {
            check(t.publicKey.length == 64 && t.publicKey.all { it in "0123456789abcdef" }) { t.publicKey }
            check(t.keys.saved == listOf("tablet")) { "key pair saved once: ${t.keys.saved}" }
            check(t.store.workerPublicKey("tablet") == t.publicKey) { "same key on the second call" }
            check(t.keys.saved.size == 1) { "no second key pair" }
        }
        check(team.map { it.publicKey }.toSet().size == 3)
        val badKeyId = assertThrows<FfiException.InvalidInput>("bad key id") { handler.store.workerPublicKey("../tablet") }
        check(badKeyId.code == "keystore.invalid_key_id" && badKeyId.problems.single().field == "key_id") { "$badKeyId" }
        ok("each tablet made its key pair once in its Kotlin key store; public keys ${team.map { it.publicKey.take(8) }}")

        // --- trust -----------------------------------------------------------------------------
        for (t in team) {
            t.store.setAuthority(authority.keyId(), authority.publicKeyHex())
            for (other in team) {
                val cert = t.store.addCertificate(other.certJson)
                check(cert.workerId == other.workerId && cert.roles == listOf(other.role)) { "$cert" }
                check(cert.villages == listOf(village) && cert.countyCode == null && cert.publicKeyHex == other.publicKey)
            }
        }
        val badHex = assertThrows<FfiException.InvalidInput>("bad authority key") {
            handler.store.setAuthority(authority.keyId(), "zz" + authority.publicKeyHex().drop(2))
        }
        check(badHex.problems.single().field == "public_key_hex" && badHex.problems.single().code == "hex") { "$badHex" }
        val badJson = assertThrows<FfiException.InvalidInput>("bad certificate json") { handler.store.addCertificate("{not json") }
        check(badJson.problems.single().field == "cert_json" && badJson.problems.single().code == "json")
        val foreignAuthority = TestAuthority("620102")
        val forged = assertThrows<FfiException.SignatureProblem>("certificate of another authority") {
            handler.store.addCertificate(foreignAuthority.certify("w-x", "假冒", listOf("case_handler"), listOf(village), handler.publicKey, 30u))
        }
        check(forged.code == "certificate.bad_signature") { forged.code }
        ok("authority and the three certificates accepted on every tablet; bad hex/JSON -> InvalidInput naming the field; foreign certificate -> SignatureProblem(certificate.bad_signature)")

        // --- the case handler's visit ------------------------------------------------------------
        val household = handler.store.createHousehold(HouseholdData(
            id = "", countyCode = "620102", townshipCode = "620102001", villageCode = village,
            address = "一组 12 号", headMemberId = "", status = "applicant", statusSince = "2024-05-01",
            phone = null, program = "rural_dibao", dibaoClass = 2u, enrollmentStart = null, enrollmentEnd = null,
            members = listOf(
                member("刘德福", "head", "1968-03-04", "011"), member("陈秀兰", "spouse", "1970-07-08", "022"),
                member("刘小军", "child", "2008-09-10", "031"), member("刘小红", "child", "2014-01-02", "042"),
            ),
        ))
        val hh = household.household.id
        val teamData = team.map { TeamMemberData(workerId = it.workerId, role = it.role) }
        val unknownPurpose = assertThrows<FfiException.InvalidInput>("unknown purpose") {
            handler.store.startVisit(hh, "party", teamData)
        }
        check(unknownPurpose.problems.single().field == "purpose" && unknownPurpose.problems.single().code == "code.unknown")
        val visitId = handler.store.startVisit(hh, "new_application", teamData)
        check(handler.store.verifyVisit(hh, visitId).status == "draft")

        val longNote = java.util.Random(2024).let { r -> String(CharArray(1200) { (0x4E00 + r.nextInt(0x5000)).toChar() }) }
        val answers = listOf(
            AnswerData("income_wages_fen", "1860000"),
            AnswerData("income_transfer_net_fen", "312000"),
            AnswerData("spending_illness_fen", "450000"),
            AnswerData("living_housing", "\"difficult\""),
            // A long, varied description: the sealed record then needs several QR codes.
            AnswerData("hardship_cause", "\"户主患慢性病，长期服药；两个孩子在读书。$longNote\""),
            AnswerData("member_present_signed", "true"),
            AnswerData("conclusion", "\"eligible\""),
            AnswerData("reason", "\"家庭人均收入低于当地农村低保标准，建议纳入二类低保。\""),
        )
        val badAnswer = assertThrows<FfiException.InvalidInput>("bad answer json") {
            handler.store.editVisitDraft(hh, visitId, listOf(AnswerData("reason", "家庭")))
        }
        check(badAnswer.problems.single().field == "answers[0].value_json" && badAnswer.problems.single().code == "json")
        val drafted = handler.store.editVisitDraft(hh, visitId, answers + AnswerData("supporters", "\"无\""))
        val removed = handler.store.editVisitDraft(hh, visitId, listOf(AnswerData("supporters", null)))
        check(drafted.draft.any { it.key == "supporters" } && removed.draft.none { it.key == "supporters" })
        check(removed.draft.size == answers.size && removed.draft.single { it.key == "conclusion" }.valueJson == "\"eligible\"")
        check(removed.team == teamData.sortedBy { listOf("township_leader", "village_cadre", "case_handler").indexOf(it.role) }) { "${removed.team}" }
        check(removed.revisions.isEmpty() && removed.purpose == "new_application" && removed.villageCode == village)
        ok("case handler started visit ${visitId.take(8)}… with the three-person team and edited its draft")

        val seal = SealData(
            place = PlaceData(villageCode = village, address = "一组 12 号", gps = GpsData(latE7 = 360_611_000, lonE7 = 1_037_834_000)),
            visitedAtUnix = 1_714_986_000,
        )
        val sealed = handler.store.sealVisit(hh, visitId, seal)
        val hash = sealed.contentHashHex
        check(hash.length == 64 && sealed.revision == 1u && sealed.content.visitId == visitId && sealed.content.householdId == hh)
        check(sealed.content.sealedBy == "w-handler" && sealed.content.place.gps?.latE7 == 360_611_000L && sealed.content.visitedAtUnix == 1_714_986_000L)
        val again = assertThrows<FfiException.InvalidInput>("seal twice") { handler.store.sealVisit(hh, visitId, seal) }
        check(again.code == "visit.already_sealed") { again.code }
        val shown = handler.store.visit(hh, visitId)
        check(shown.revisions.single().contentHashHex == hash && shown.latestHashesHex == listOf(hash) && shown.draftDiffersFrom == null)

        handler.store.signVisit(hh, visitId, hash, "case_handler", "tablet")
        val afterOwn = handler.store.verifyVisit(hh, visitId)
        check(afterOwn.status == "incomplete" && afterOwn.revision == 1u && afterOwn.contentHashHex == hash) { "$afterOwn" }
        check(afterOwn.missingRoles == listOf("township_leader", "village_cadre")) { "${afterOwn.missingRoles}" }
        check(afterOwn.signers.single().verdict == "signer.valid" && afterOwn.signers.single().name == "张丽")
        val wrongRole = assertThrows<FfiException.NotPermitted>("sign in a role the certificate lacks") {
            handler.store.signVisit(hh, visitId, hash, "village_cadre", "tablet")
        }
        check(wrongRole.code == "signer.wrong_role") { wrongRole.code }
        check(handler.store.visitsIncomplete(village).single().visitId == visitId)
        check(handler.store.visitsAwaitingSignature("w-leader", village).single().missingSigners.map { it.workerId } == listOf("w-leader", "w-cadre"))
        check(handler.store.visitsAwaitingSignature("w-handler", village).isEmpty())
        check(handler.store.visitsComplete(village).isEmpty())
        ok("sealed revision 1 (${hash.take(12)}…), signed by the case handler: incomplete, missing ${afterOwn.missingRoles}; sealing twice and a wrong role refused")

        // --- co-signing with no network ----------------------------------------------------------
        val chunks = handler.store.visitContentChunks(hh, visitId, hash)
        println("cosign: sealed record ${chunks.sumOf { it.size }} bytes in ${chunks.size} QR code(s): ${chunks.map { it.size }}")
        check(chunks.size >= 2 && chunks.all { it.size <= 1200 }) { "${chunks.size} chunks" }
        // Every co-signer scans them in another order, and one code twice.
        fun scanOrder(seed: Long): List<ByteArray> {
            val order = (chunks + listOf(chunks[0])).shuffled(java.util.Random(seed))
            println("cosign: scan order ${order.map { c -> chunks.indexOfFirst { it.contentEquals(c) } }}")
            return order
        }

        val responses = mutableMapOf<String, ByteArray>()
        for ((i, t) in listOf(leader, cadre).withIndex()) {
            val early = assertThrows<FfiException.NotPermitted>("sign before receiving") { t.store.cosign(hash, t.role, "tablet") }
            check(early.code == "visit.content_not_held") { early.code }
            val receiver = CoSignReceiver.expecting(t.store, hash)
            val progress = scanOrder(7L + i).map { receiver.accept(it) }
            check(progress.count { it.duplicate } == 1) { "$progress" }
            check(progress.last().received == chunks.size.toUInt() && progress.all { it.total == chunks.size.toUInt() })
            val received = receiver.finish()
            check(received.contentHashHex == hash && received.content == sealed.content) { "received another record" }
            check(received.content.answers.single { it.key == "conclusion" }.valueJson == "\"eligible\"")
            val response = t.store.cosign(hash, t.role, "tablet")
            println("cosign: ${t.workerId} signature response ${response.size} bytes (one QR code)")
            check(response.size < 300)
            responses[t.workerId] = response
        }
        ok("leader and cadre rebuilt the record from shuffled QR chunks (one scanned twice), read it and co-signed")

        // A worker not on the team, certified for the village, cannot co-sign.
        val outsider = Tablet("w-outsider", "赵强", "village_cadre", 4)
        outsider.store.setAuthority(authority.keyId(), authority.publicKeyHex())
        outsider.store.addCertificate(outsider.certJson)
        val outsiderReceiver = CoSignReceiver(outsider.store)
        chunks.forEach { outsiderReceiver.accept(it) }
        check(outsiderReceiver.finish().contentHashHex == hash)
        val notMember = assertThrows<FfiException.NotPermitted>("non-member co-signs") { outsider.store.cosign(hash, "village_cadre", "tablet") }
        check(notMember.code == "signer.not_on_team") { notMember.code }
        ok("a non-member's co-signature -> FfiException.NotPermitted(${notMember.code})")

        // A locked key store cannot sign.
        cadre.keys.locked = true
        val locked = assertThrows<FfiException.KeyStoreLocked>("locked key store") { cadre.store.cosign(hash, "village_cadre", "tablet") }
        check(locked.code == "keystore.locked") { locked.code }
        cadre.keys.locked = false
        ok("a locked key store -> FfiException.KeyStoreLocked")

        // --- the case handler imports the responses ---------------------------------------------
        val afterLeader = handler.store.importSignatureResponse(hh, visitId, hash, responses.getValue("w-leader"))
        check(afterLeader.status == "incomplete" && afterLeader.missingRoles == listOf("village_cadre")) { "$afterLeader" }
        val complete = handler.store.importSignatureResponse(hh, visitId, hash, responses.getValue("w-cadre"))
        check(complete.status == "complete" && complete.revision == 1u && complete.contentHashHex == hash) { "$complete" }
        check(complete.missingRoles.isEmpty() && complete.reasons.isEmpty())
        check(complete.signers.size == 3 && complete.signers.all { it.verdict == "signer.valid" && it.contentHashHex == hash }) { "${complete.signers}" }
        check(complete.signers.map { it.workerId }.toSet() == setOf("w-leader", "w-cadre", "w-handler"))
        check(complete.signers.map { it.name }.toSet() == setOf("王建军", "李春梅", "张丽"))
        check(handler.store.importSignatureResponse(hh, visitId, hash, responses.getValue("w-cadre")) == complete) { "rescan changes nothing" }
        check(handler.store.visitsComplete(village).single().visitId == visitId)
        check(handler.store.visitsIncomplete(village).isEmpty())
        check(handler.store.visitsAwaitingSignature("w-cadre", village).isEmpty())
        ok("both responses imported: ${complete.status}, signers ${complete.signers.map { "${it.role}:${it.verdict}" }}")

        // A response for another visit is refused.
        val second = handler.store.startVisit(hh, "periodic_review", teamData)
        handler.store.editVisitDraft(hh, second, answers)
        val secondHash = handler.store.sealVisit(hh, second, seal.copy(visitedAtUnix = 1_715_072_400)).contentHashHex
        check(secondHash != hash)
        val otherVisit = assertThrows<FfiException.InvalidInput>("response for another visit") {
            handler.store.importSignatureResponse(hh, second, secondHash, responses.getValue("w-leader"))
        }
        check(otherVisit.code == "visit.response_refused") { otherVisit.code }
        check(handler.store.verifyVisit(hh, second).let { it.status == "incomplete" && it.signers.isEmpty() })
        ok("a response for another visit -> FfiException.InvalidInput(${otherVisit.code})")

        // A tampered response (one flipped byte of the signature) is refused.
        val tampered = responses.getValue("w-cadre").copyOf().also { it[it.size - 1] = (it[it.size - 1].toInt() xor 0x01).toByte() }
        val bad = assertThrows<FfiException.SignatureProblem>("tampered response") {
            handler.store.importSignatureResponse(hh, visitId, hash, tampered)
        }
        check(bad.code == "signer.bad_signature") { bad.code }
        check(handler.store.verifyVisit(hh, visitId).status == "complete")
        val garbage = assertThrows<FfiException.InvalidInput>("not a response") {
            handler.store.importSignatureResponse(hh, visitId, hash, chunks[0])
        }
        check(garbage.code.startsWith("response.")) { garbage.code }
        ok("a tampered response -> FfiException.SignatureProblem(${bad.code}); a content chunk scanned as a response -> InvalidInput(${garbage.code})")

        // --- a fourth store verifies on its own ---------------------------------------------------
        val supervisor = Tablet("w-supervisor", "周敏", "county_supervisor", 5)
        val changes = handler.store.changesSince(hh, emptyList())
        val imported = supervisor.store.importChanges(hh, changes)
        check(imported.household.id == hh && imported.household.members.size == 4)
        val noTrust = assertThrows<FfiException.NotPermitted>("verify without an authority") { supervisor.store.verifyVisit(hh, visitId) }
        check(noTrust.code == "visit.no_authority") { noTrust.code }
        supervisor.store.setAuthority(authority.keyId(), authority.publicKeyHex())
        val fourth = supervisor.store.verifyVisit(hh, visitId)
        check(fourth.status == "complete" && fourth.contentHashHex == hash && fourth.signers.size == 3) { "$fourth" }
        check(fourth.signers.all { it.verdict == "signer.valid" })
        check(supervisor.store.visit(hh, visitId).revisions.single().content == sealed.content)
        check(supervisor.store.visitsComplete(village).single().visitId == visitId) { "lists recomputed once the authority is set" }
        ok("${changes.size} changes carried to a fourth store, which verifies the visit as complete with only the authority key")

        println("cosign: all checks passed")
    }

    // ---------------------------------------------------------------------------------------
    // fieldday.kts: the real county-authority command and a real sync server on loopback;
    // three tablets enroll, record, seal and co-sign a visit with no network, sync; a fourth
    // tablet verifies it; an edit survives an app restart; a tampered export is refused.
    // ---------------------------------------------------------------------------------------

    @Test
    fun fieldDay() {
        fun ok(name: String): Unit = ok("fieldday", name)
        val bin = System.getenv("RUHU_BIN_DIR") ?: error("RUHU_BIN_DIR is not set (the Gradle test task sets it)")
        val authorityDir: Path = Files.createTempDirectory("ruhu-authority")
        val serverData: Path = Files.createTempDirectory("ruhu-server")
        val tablets: Path = Files.createTempDirectory("ruhu-tablets")
        val authorityKey = authorityDir.resolve("authority.key").toString()

        fun command(vararg args: String): String {
            val process = ProcessBuilder(*args).redirectErrorStream(true).start()
            val out = process.inputStream.readBytes().decodeToString()
            check(process.waitFor() == 0) { "${args.joinToString(" ")} failed:\n$out" }
            return out
        }

        fun authority(vararg args: String): String = command("$bin/county-authority", *args)

        // --- the county authority, on its own machine (here: its own folder) -------------------
        authority("init", "--key-file", authorityKey, "--county", "620102", "--key-id", "county-620102")
        authority("public-key", "--key-file", authorityKey, "--out", serverData.resolve("authority-public-key.json").toString())

        // --- the sync server on loopback -------------------------------------------------------
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
            // --- tablets and their platform key stores ----------------------------------------
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

            // --- the case handler's household and visit ---------------------------------------
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

            // --- co-signing in the household, no network --------------------------------------
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

            // --- sync with the server ---------------------------------------------------------
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

            // --- an edit on one tablet reaches the others; restart resumes signing ------------
            val view = cadre.store.household(hh)
            cadre.store.updateHousehold(view.household.copy(address = "一组 12 号（新址）"), view.heads)
            cadre.store.close()
            cadre.store = TabletStore.open(cadre.path, "tablet", "w-cadre", cadre.keys)
            check(cadre.store.resumeSigning())
            check(cadre.sync().notAccepted.isEmpty())
            handler.sync()
            check(handler.store.household(hh).household.address == "一组 12 号（新址）")
            ok("an edit made before an app restart is signed after resumeSigning() and reaches the case handler")

            // --- the local link, and a tampered record ------------------------------------------
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
    }
}
