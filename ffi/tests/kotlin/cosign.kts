// Signed home visit through the generated Kotlin bindings, on three tablets with no network:
// three workers (township leader, village cadre, case handler), each with their own store and
// Kotlin key store, certified by a county authority (TestAuthority: test tooling only). The
// case handler starts, edits, seals and signs a visit; the other two receive the sealed
// record through its QR chunks (shuffled, one scanned twice), read it and answer with a
// one-QR signature response; the case handler imports both -> complete. Refusals: a
// response for another visit, a non-member's co-signature, signing before receiving, a
// tampered response, a locked key store. Then the household's changes travel to a fourth
// store, which verifies the visit as complete on its own. Any failed check throws.
import uniffi.ruhu_ffi.*
import java.nio.file.Files

fun ok(name: String) = println("ok - cosign: $name")

inline fun <reified E : Throwable> assertThrows(what: String, block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing thrown")
}

// The platform key store of one tablet: the database key and the wrapped signing key.
class TabletKeys(seed: Int) : HostKeyStore {
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

// GB 11643 check character for 17 digits.
fun idNumber(first17: String): String {
    val weights = intArrayOf(7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    val checks = "10X98765432"
    val sum = first17.mapIndexed { i, c -> (c - '0') * weights[i] }.sum()
    return first17 + checks[sum % 11]
}

fun member(name: String, relation: String, birth: String, seq: String) = MemberData(
    memberId = "", name = name, idNumber = idNumber("620102" + birth.replace("-", "") + seq),
    relation = relation, birthDate = birth, health = "healthy", disability = "none",
    disabilityGrade = null, labourAbility = "full",
)

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

// --- device keys ---------------------------------------------------------------------------
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

// --- trust ---------------------------------------------------------------------------------
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

// --- the case handler's visit --------------------------------------------------------------
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

// --- co-signing with no network ------------------------------------------------------------
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

// --- the case handler imports the responses -------------------------------------------------
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

// --- a fourth store verifies on its own -----------------------------------------------------
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
