// Helpers of the field-day XCTests (FieldDayTests.swift): checks in the style of the Kotlin
// scripts, key stores standing in for the Keychain, and the tablets the tests drive.

import Foundation
import Ruhu
import XCTest

// MARK: - helpers shared by the three tests

struct CheckFailed: Error, CustomStringConvertible {
    let description: String
}

/// Kotlin's `check`: records the failure where it happened and stops the test.
func check(
    _ condition: Bool, _ message: @autoclosure () -> String = "check failed",
    file: StaticString = #filePath, line: UInt = #line
) throws {
    if !condition {
        XCTFail(message(), file: file, line: line)
        throw CheckFailed(description: message())
    }
}

/// The variants of `FfiError` (Kotlin: the subclasses of `FfiException`).
enum Kind: String {
    case invalidInput = "InvalidInput", notPermitted = "NotPermitted", signatureProblem = "SignatureProblem"
    case keyStoreLocked = "KeyStoreLocked", storage = "Storage", network = "Network", conflict = "Conflict"
    case notFound = "NotFound"
}

extension FfiError {
    var kind: Kind {
        switch self {
        case .InvalidInput: return .invalidInput
        case .NotPermitted: return .notPermitted
        case .SignatureProblem: return .signatureProblem
        case .KeyStoreLocked: return .keyStoreLocked
        case .Storage: return .storage
        case .Network: return .network
        case .Conflict: return .conflict
        case .NotFound: return .notFound
        }
    }

    /// The stable code of every variant (Kotlin: `e.code`).
    var code: String {
        switch self {
        case let .InvalidInput(code, _, _): return code
        case let .NotPermitted(code, _): return code
        case let .SignatureProblem(code, _): return code
        case let .KeyStoreLocked(code): return code
        case let .Storage(code, _): return code
        case let .Network(code, _, _): return code
        case let .Conflict(code, _, _): return code
        case let .NotFound(code, _): return code
        }
    }

    /// The field problems of `InvalidInput` (Kotlin: `e.problems`).
    var problems: [FieldProblem] {
        if case let .InvalidInput(_, _, problems) = self {
            return problems
        }
        return []
    }
}

/// Kotlin's `assertThrows<FfiException.X>`: the block must throw that variant (any `FfiError`
/// when `kind` is nil).
@discardableResult
func assertThrows<T>(
    _ what: String, _ kind: Kind?, file: StaticString = #filePath, line: UInt = #line,
    _ block: () throws -> T
) throws -> FfiError {
    let outcome: String
    do {
        _ = try block()
        outcome = "nothing thrown"
    } catch let error as FfiError {
        if kind == nil || error.kind == kind {
            return error
        }
        outcome = "got \(error)"
    } catch {
        outcome = "got \(error)"
    }
    let message = "\(what): expected \(kind?.rawValue ?? "FfiError"), \(outcome)"
    XCTFail(message, file: file, line: line)
    throw CheckFailed(description: message)
}

extension Array {
    /// Kotlin's `single()`: the only element, or a failed check.
    func single(file: StaticString = #filePath, line: UInt = #line) throws -> Element {
        try check(count == 1, "expected one element, got \(count): \(self)", file: file, line: line)
        return self[0]
    }

    func single(file: StaticString = #filePath, line: UInt = #line, where predicate: (Element) -> Bool) throws -> Element {
        try filter(predicate).single(file: file, line: line)
    }
}

/// SplitMix64: a seeded generator for shuffles and the long note.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func temporaryDirectory(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func bytes(_ count: Int, _ value: (Int) -> Int) -> Data {
    Data((0..<count).map { UInt8(truncatingIfNeeded: value($0)) })
}

/// GB 11643 check character for 17 digits.
func idNumber(_ first17: String) -> String {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    let checks = Array("10X98765432")
    let sum = zip(first17, weights).reduce(0) { $0 + ($1.0.wholeNumberValue ?? 0) * $1.1 }
    return first17 + String(checks[sum % 11])
}

func member(_ name: String, _ relation: String, _ birth: String, _ seq: String) -> MemberData {
    MemberData(
        memberId: "", name: name, idNumber: idNumber("620102" + birth.replacingOccurrences(of: "-", with: "") + seq),
        relation: relation, birthDate: birth, health: "healthy", disability: "none",
        disabilityGrade: nil, labourAbility: "full"
    )
}

// MARK: - key stores (on a device: the Keychain wraps the keys; README.md)

/// smoke.kts: a Swift implementation of the host key store.
final class TestKeyStore: HostKeyStore, @unchecked Sendable {
    private let key: Data?
    private var signingKeys: [String: Data] = [:]
    var asked: [String] = []

    init(_ key: Data?) { self.key = key }

    func databaseKey(storeId: String) throws -> Data {
        asked.append(storeId)
        guard let key = key else { throw KeyStoreError.Locked }
        return key
    }

    func loadSigningKey(keyId: String) throws -> Data? { signingKeys[keyId] }

    func saveSigningKey(keyId: String, pkcs8: Data) throws { signingKeys[keyId] = pkcs8 }
}

/// cosign.kts: the platform key store of one tablet: the database key and the signing key.
final class TabletKeys: HostKeyStore, @unchecked Sendable {
    private let databaseKeyBytes: Data
    var signingKeys: [String: Data] = [:]
    var saved: [String] = []
    var locked = false

    init(seed: Int) { databaseKeyBytes = bytes(32) { $0 * 11 + seed } }

    func databaseKey(storeId: String) throws -> Data { databaseKeyBytes }

    func loadSigningKey(keyId: String) throws -> Data? {
        if locked { throw KeyStoreError.Locked }
        return signingKeys[keyId]
    }

    func saveSigningKey(keyId: String, pkcs8: Data) throws {
        if locked { throw KeyStoreError.Locked }
        saved.append(keyId)
        signingKeys[keyId] = pkcs8
    }
}

/// fieldday.kts: the tablets' key stores.
final class FieldDayKeys: HostKeyStore, @unchecked Sendable {
    private let databaseKeyBytes: Data
    private var signing: [String: Data] = [:]

    init(seed: Int) { databaseKeyBytes = bytes(32) { $0 * 13 + seed } }

    func databaseKey(storeId: String) throws -> Data { databaseKeyBytes }
    func loadSigningKey(keyId: String) throws -> Data? { signing[keyId] }
    func saveSigningKey(keyId: String, pkcs8: Data) throws { signing[keyId] = pkcs8 }
}

/// cosign.kts: one tablet certified by the test authority.
final class CosignTablet {
    let workerId: String, name: String, role: String
    let keys: TabletKeys
    let store: TabletStore
    let publicKey: String
    let certJson: String

    init(_ workerId: String, _ name: String, _ role: String, seed: Int, dir: URL, authority: TestAuthority, village: String) throws {
        self.workerId = workerId
        self.name = name
        self.role = role
        keys = TabletKeys(seed: seed)
        store = try TabletStore.open(
            path: dir.appendingPathComponent("\(workerId).db").path, storeId: workerId, workerId: workerId, keyStore: keys
        )
        publicKey = try store.workerPublicKey(keyId: "tablet")
        certJson = try authority.certify(
            workerId: workerId, name: name, roles: [role], villages: [village], publicKeyHex: publicKey, validDays: 365
        )
    }
}

#if os(macOS)
/// fieldday.kts: one tablet, enrolled with a bundle from the county-authority command.
final class FieldDayTablet {
    let workerId: String, name: String, role: String
    let keys: FieldDayKeys
    let path: String
    /// Implicitly unwrapped so that the store can be released (closed) before it is reopened.
    var store: TabletStore!
    let publicKey: String
    let certFile: String
    private let bundleFor: (FieldDayTablet) throws -> String

    init(
        _ workerId: String, _ name: String, _ role: String, seed: Int, countyScope: Bool = false, tablets: URL,
        authorityDir: URL, village: String, authority: ([String]) throws -> String,
        bundle: @escaping (FieldDayTablet) throws -> String
    ) throws {
        self.workerId = workerId
        self.name = name
        self.role = role
        keys = FieldDayKeys(seed: seed)
        path = tablets.appendingPathComponent("\(workerId).db").path
        store = try TabletStore.open(path: path, storeId: "tablet", workerId: workerId, keyStore: keys)
        publicKey = try store.workerPublicKey(keyId: "device")
        certFile = authorityDir.appendingPathComponent("\(workerId).cert.json").path
        bundleFor = bundle
        let scope = countyScope ? ["--county-scope"] : ["--villages", village]
        _ = try authority(["certify", "--key-file", authorityDir.appendingPathComponent("authority.key").path,
                           "--worker-id", workerId, "--name", name, "--roles", role]
            + scope + ["--public-key", publicKey, "--valid-days", "365", "--out", certFile])
    }

    func bundle() throws -> String { try bundleFor(self) }

    func sync() throws -> SyncReportData { try store.sync(appVersion: "0.1.0", transport: nil) }
}

#endif
