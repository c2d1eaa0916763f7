// Binding overhead benchmark (issue 5), the Kotlin side: the same calls as
// ffi/benches/binding_overhead.rs, through the generated Kotlin bindings (JNA) on the JVM.
// Run by scripts/bench-bindings.sh, which compiles this script with kotlinc, runs it on a plain
// JVM (`java`, default settings) and compares it with the Rust run. It also runs as a script:
//
//   kotlinc -classpath jna.jar:ruhu_ffi.jar -J-Djna.library.path=target/release \
//       -script ffi/benchmarks/binding_overhead.kts -- --households 300 --iterations 200
//
// but then shares its JVM with the compiler (~200 MB of live heap: longer GC pauses).
//
// Workload (identical to the Rust bench; both print the same `fingerprint` of their inputs):
// a fresh encrypted store with N households, 50 of them in the listed village and the rest
// spread over 19 other villages, each created with createHousehold. Then, per operation, W
// warm-up calls (default: the larger of K and 5000) and K timed calls, each timed on its own:
// summary(id) cycling over the village's households; listVillage(village, null, null);
// updateHousehold changing the address of the village's first household with the heads
// returned by the previous write.
// Lives outside ffi/tests/kotlin so the test runner does not pick it up.
import uniffi.ruhu_ffi.*
import java.io.File
import java.nio.file.Files
import java.util.Locale

val VILLAGES = 20
val LISTED = 50

fun arg(name: String): Int? {
    val i = args.indexOf(name)
    if (i < 0) return null
    return args.getOrNull(i + 1)?.toIntOrNull() ?: throw IllegalArgumentException("$name needs a number")
}
val households = arg("--households") ?: 300
val iterations = arg("--iterations") ?: 200
val warmup = arg("--warmup") ?: maxOf(iterations, 5000) // the JIT settles after a few thousand calls
require(households >= LISTED && iterations >= 1) { "need --households >= $LISTED and --iterations >= 1" }

// The host key store: a fixed 32-byte key (the Rust bench uses the same bytes), no signing key.
class FixedKeyStore : HostKeyStore {
    private val signingKeys = mutableMapOf<String, ByteArray>()
    override fun databaseKey(storeId: String): ByteArray = ByteArray(32) { (it * 7).toByte() }
    override fun loadSigningKey(keyId: String): ByteArray? = signingKeys[keyId]
    override fun saveSigningKey(keyId: String, pkcs8: ByteArray) {
        signingKeys[keyId] = pkcs8
    }
}

// --- the workload: a copy of ruhu_core::fixtures::household (checked by the fingerprint) ---
val SURNAMES = listOf("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "马", "何")
val GIVEN = listOf(
    "秀英", "桂兰", "建国", "志强", "海燕", "玉梅", "国庆", "春生", "丽娟", "文军", "小红", "金花",
    "德福", "永平", "淑芬", "学文",
)
val RELATIONS = listOf("spouse", "child", "parent", "grandchild", "child")

fun village(n: Int) = "620102001" + "%03d".format(n % 1000)

// GB 11643 check character for 17 digits.
fun withCheckChar(first17: String): String {
    val weights = intArrayOf(7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    val checks = "10X98765432"
    val sum = first17.mapIndexed { i, c -> (c - '0') * weights[i] }.sum()
    return first17 + checks[sum % 11]
}

fun member(seed: Long, relation: String): MemberData {
    val birth = "%04d-%02d-%02d".format(1940 + seed % 70, 1 + seed % 12, 1 + seed % 28)
    val disabled = seed % 7 == 0L
    return MemberData(
        memberId = "",
        name = SURNAMES[(seed / 3 % SURNAMES.size).toInt()] + GIVEN[(seed / 5 % GIVEN.size).toInt()],
        idNumber = withCheckChar("620102" + birth.replace("-", "") + "%03d".format(seed % 1000)),
        relation = relation,
        birthDate = birth,
        health = if (seed % 3 == 0L) "chronic_illness" else "healthy",
        disability = if (disabled) "physical" else "none",
        disabilityGrade = if (disabled) 2u else null,
        labourAbility = if (seed % 4 == 0L) "none" else "full",
    )
}

// Household `seed`: the first 50 in village 0, the rest round-robin over villages 1-19.
fun household(seed: Long): HouseholdData {
    val v = if (seed < LISTED) 0 else 1 + ((seed - LISTED) % (VILLAGES - 1)).toInt()
    val code = village(v)
    val size = 3 + (seed % 4).toInt()
    val members = listOf(member(seed * 31, "head")) +
        (1 until size).map { i -> member(seed * 31 + i, RELATIONS[(i - 1) % RELATIONS.size]) }
    return HouseholdData(
        id = "", countyCode = code.take(6), townshipCode = code.take(9), villageCode = code,
        address = "${seed % 9 + 1}组${seed % 97 + 1}号", headMemberId = "", status = "active",
        statusSince = "2023-%02d-01".format(1 + seed % 12), phone = "139%08d".format(seed % 100_000_000),
        program = "rural_dibao", dibaoClass = (1 + seed % 4).toInt().toUByte(),
        enrollmentStart = "2023-01-01", enrollmentEnd = null, members = members,
    )
}

// FNV-1a (64 bit) over the same lines as the Rust bench's `fingerprint`.
fun fingerprint(list: List<HouseholdData>): String {
    var hash = -0x340d631b7bdddcdbL // 0xcbf29ce484222325
    fun feed(line: String) {
        for (b in (line + "\n").toByteArray(Charsets.UTF_8)) {
            hash = (hash xor (b.toLong() and 0xff)) * 0x100000001b3L
        }
    }
    fun opt(v: String?) = v ?: "-"
    fun num(v: UByte?) = v?.toString() ?: "-"
    for (h in list) {
        feed(listOf(h.countyCode, h.townshipCode, h.villageCode, h.address, h.status, h.statusSince,
            opt(h.phone), h.program, num(h.dibaoClass), opt(h.enrollmentStart), opt(h.enrollmentEnd)).joinToString("|"))
        for (m in h.members) {
            feed("  " + listOf(m.name, m.idNumber, m.relation, m.birthDate, m.health, m.disability,
                num(m.disabilityGrade), m.labourAbility).joinToString("|"))
        }
    }
    return "%016x".format(hash)
}

// The address written by call `i` (warm-up calls included), the same as in the Rust bench.
fun address(i: Int) = "${i % 9 + 1}组${i}号"

// --- timing ---
var sink = 0L // results feed it, so nothing is optimised away

fun measure(op: String, call: (Int) -> Unit) {
    for (i in 0 until warmup) call(i)
    val samples = LongArray(iterations)
    for (k in 0 until iterations) {
        val t = System.nanoTime()
        call(warmup + k)
        samples[k] = System.nanoTime() - t
    }
    val mean = samples.sum().toDouble() / iterations / 1000.0
    samples.sort()
    fun pct(p: Int) = samples[minOf(iterations * p / 100, iterations - 1)] / 1000.0
    println(String.format(Locale.ROOT, "result side=kotlin op=%s mean_us=%.2f p50_us=%.2f p90_us=%.2f p99_us=%.2f max_us=%.2f",
        op, mean, pct(50), pct(90), pct(99), samples[iterations - 1] / 1000.0))
}

val inputs = (0 until households).map { household(it.toLong()) }
println("workload households=$households listed=$LISTED villages=$VILLAGES warmup=$warmup iterations=$iterations fingerprint=${fingerprint(inputs)}")

val dir = Files.createTempDirectory("ruhu-bench")
try {
    TabletStore.open(dir.resolve("tablet.db").toString(), "bench", "bench-worker", FixedKeyStore()).use { store ->
        val started = System.nanoTime()
        val villageIds = mutableListOf<String>()
        for (h in inputs) {
            val created = store.createHousehold(h)
            if (villageIds.size < LISTED) villageIds += created.household.id
        }
        println(String.format(Locale.ROOT, "setup side=kotlin created=%d seconds=%.1f", inputs.size, (System.nanoTime() - started) / 1e9))
        val listed = village(0)

        measure("summary") { i ->
            val id = villageIds[i % villageIds.size]
            val summary = store.summary(id)
            check(summary.id == id) { "summary of another household" }
            sink += summary.memberCount.toLong()
        }
        measure("list_village") {
            val list = store.listVillage(listed, null, null)
            check(list.size == LISTED) { "wrong village size: ${list.size}" }
            sink += list.size
        }
        var view = store.household(villageIds[0])
        measure("update_household") { i ->
            val saved = store.updateHousehold(view.household.copy(address = address(i)), view.heads)
            check(saved.household.address == address(i)) { "address not saved" }
            sink += saved.heads.size
            view = saved
        }
    }
} finally {
    File(dir.toString()).deleteRecursively()
}
println("kotlin bench done (sink $sink)")
