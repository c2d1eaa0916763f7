// Foundation smoke test: the real library through the generated Kotlin bindings on the
// desktop JVM — open an encrypted store with a Kotlin key store, create and list households,
// read one back, edit it, and get typed exceptions for bad input, a wrong key and a locked
// key store. Any failed check throws, so the script exits non-zero.
import uniffi.ruhu_ffi.*
import java.nio.file.Files

fun ok(name: String) = println("ok - smoke: $name")

inline fun <reified E : Throwable> assertThrows(what: String, block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing thrown")
}

// A Kotlin implementation of the host key store (on Android: keys wrapped by the Keystore).
class TestKeyStore(private val key: ByteArray?) : HostKeyStore {
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


fun household(village: String, head: String, seq: Int) = HouseholdData(
    id = "", countyCode = "620102", townshipCode = "620102001", villageCode = village,
    address = "一组 12 号", headMemberId = "", status = "active", statusSince = "2024-01-01",
    phone = null, program = "rural_dibao", dibaoClass = 2u, enrollmentStart = "2024-01-01",
    enrollmentEnd = null,
    members = listOf(member(head, "head", "1956-03-04", "%03d".format(seq * 2)), member("李建国", "spouse", "1955-07-08", "%03d".format(seq * 2 + 1))),
)

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
