// XCTest of the Swift package: the steps of the Kotlin scripts CI runs on the desktop JVM
// (ffi/tests/kotlin/smoke.kts, cosign.kts and fieldday.kts, through scripts/kotlin-tests.sh),
// one test per script, in the same order with the same checks. A failed check fails the test
// at once, as `check` does in Kotlin. Co-signers' scan orders and the long note come from a
// seeded generator here (java.util.Random there): other orders, the same properties.
//
// How it runs (on a Mac; see ios/README.md): ios/run-tests.sh builds the XCFramework with the
// `test-support` feature (TestAuthority) and a macOS slice, builds sync-server and
// county-authority, and runs `swift test` with RUHU_BIN_DIR set. testFieldDay starts those two
// programs, which only macOS can do (no Process on iOS): on an iOS simulator it is skipped and
// the other two run.
//
// NOT compiled or run on the machine that wrote it (Linux, no Swift toolchain there). CI checks
// only that every binding this file names exists in the generated ruhu_ffi.swift
// (scripts/check-mobile-packages.sh).
//
// Mirrors (sha256 of the scripts when this file was last brought in line with them; the check
// script warns when a script has changed since):
//   smoke.kts    sha256:e3ed320865c68891176b06ee82af01797007d09f5dc0f118a6a2e4aef4d58067
//   cosign.kts   sha256:d32cd7507d5c0ce458502f3c57f7bc7d0472a0848987728373cb759027b1956e
//   fieldday.kts sha256:7013f5f8d4ea8e952401fa6ba38d2d98fd1aa89b00bdff72abbca7c127a920da

import Foundation
import Ruhu
import XCTest

final class FieldDayTests: XCTestCase {

    // MARK: smoke.kts
    // Open an encrypted store with a Swift key store, create and list households, read one
    // back, edit it, typed errors for bad input, a wrong key and a locked key store.

    private func household(_ village: String, _ head: String, _ seq: Int) -> HouseholdData {
        HouseholdData(
            id: "", countyCode: "620102", townshipCode: "620102001", villageCode: village,
            address: "一组 12 号", headMemberId: "", status: "active", statusSince: "2024-01-01",
            phone: nil, program: "rural_dibao", dibaoClass: 2, enrollmentStart: "2024-01-01",
            enrollmentEnd: nil,
            members: [
                member(head, "head", "1956-03-04", String(format: "%03d", seq * 2)),
                member("李建国", "spouse", "1955-07-08", String(format: "%03d", seq * 2 + 1)),
            ]
        )
    }

    func testSmoke() throws {
        func ok(_ name: String) { print("ok - smoke: \(name)") }
        let dir = try temporaryDirectory("ruhu-smoke")
        let path = dir.appendingPathComponent("tablet.db").path
        let keys = TestKeyStore(bytes(32) { $0 * 7 })
        let village = "620102001001"

        do {
            let store = try TabletStore.open(path: path, storeId: "tablet", workerId: "worker-swift", keyStore: keys)
            try check(keys.asked == ["tablet"], "key store not asked: \(keys.asked)")
            ok("opened an encrypted store with a Swift HostKeyStore")

            let a = try store.createHousehold(household: household(village, "王秀英", 1))
            let b = try store.createHousehold(household: household(village, "张桂兰", 2))
            _ = try store.createHousehold(household: household("620102001002", "刘海燕", 3))
            try check(a.household.id.count == 32 && a.household.members.count == 2, "created: \(a)")
            try check(a.heads.count == 1 && a.conflicts.isEmpty && a.problems.isEmpty, "view: \(a)")
            ok("created households \(a.household.id.prefix(8))…, \(b.household.id.prefix(8))…")

            let listed = try store.listVillage(villageCode: village, program: nil, status: nil)
            try check(listed.map { $0.headName }.sorted() == ["张桂兰", "王秀英"], "listed: \(listed)")
            try check(listed.allSatisfy { $0.memberCount == 2 && $0.program == "rural_dibao" && !$0.hasConflicts })
            try check(store.listVillage(villageCode: village, program: "urban_dibao", status: nil).isEmpty)
            ok("listed village \(village): \(listed.map { $0.headName })")

            let found = try store.searchByName(villages: [village], namePart: "秀英")
            try check(found.map { $0.id } == [a.household.id], "search: \(found)")
            let byId = try store.findByIdNumber(villages: [village], idNumber: a.household.members[0].idNumber)
            try check(byId.count == 1 && byId[0].id == a.household.id, "id search: \(byId)")
            ok("searched by name and by ID number")

            var edited = a.household
            edited.address = "二组 3 号"
            let saved = try store.updateHousehold(household: edited, heads: a.heads)
            try check(saved.household.address == "二组 3 号" && saved.heads != a.heads)
            try check(store.household(householdId: a.household.id).household.address == "二组 3 号")
            ok("edited and read back")

            // Invalid input: a wrong check digit and an unknown class, with field paths and codes.
            let good = a.household.members[1].idNumber
            var badMember = a.household.members[1]
            badMember.idNumber = String(good.dropLast()) + (good.last == "0" ? "1" : "0")
            var invalid = saved.household
            invalid.members = [a.household.members[0], badMember]
            invalid.dibaoClass = 9
            let e = try assertThrows("bad ID", .invalidInput) {
                try store.updateHousehold(household: invalid, heads: saved.heads)
            }
            let codes = Set(e.problems.map { $0.code })
            try check(codes.contains("resident_id.check_digit") && codes.contains("range"), "codes: \(e.problems)")
            try check(e.problems.contains { $0.field == "enrollment.dibao_class" && $0.params["max"] == "4" })
            try check(e.code == "validation")
            try check(store.household(householdId: a.household.id).household.members[1].idNumber == a.household.members[1].idNumber)
            ok("invalid edit -> FfiError.InvalidInput \(e.problems.map { "\($0.field):\($0.code)" }); nothing changed")

            var rich = household(village, "赵德福", 4)
            rich.status = "rich"
            let badCode = try assertThrows("unknown code", .invalidInput) { try store.createHousehold(household: rich) }
            try check(badCode.problems.single().field == "status" && badCode.problems.single().code == "code.unknown")
            try assertThrows("missing household", .notFound) {
                try store.household(householdId: String(repeating: "0", count: 32))
            }
            ok("unknown code and unknown household raise their documented errors")
        } // the store is released (closed) here, as `use` closes it in Kotlin

        // Reopen with the right key; a wrong key and a locked key store are distinct errors.
        do {
            let store = try TabletStore.open(path: path, storeId: "tablet", workerId: "worker-swift", keyStore: keys)
            try check(store.listVillage(villageCode: village, program: nil, status: nil).count == 2)
        }
        let wrong = try assertThrows("wrong key", .storage) {
            try TabletStore.open(path: path, storeId: "tablet", workerId: "w", keyStore: TestKeyStore(bytes(32) { _ in 1 }))
        }
        try check(wrong.code == "store.wrong_key", "code: \(wrong.code)")
        try assertThrows("locked", .keyStoreLocked) {
            try TabletStore.open(path: path, storeId: "tablet", workerId: "w", keyStore: TestKeyStore(nil))
        }
        ok("wrong key -> Storage(store.wrong_key); locked key store -> KeyStoreLocked")
        try check(!libraryVersion().isEmpty)
        print("smoke: all checks passed")
    }

    // MARK: cosign.kts
    // A signed home visit on three tablets with no network (QR chunks and one-QR responses),
    // the refusals, and a fourth store that verifies the visit on its own.

    func testCosign() throws {
        func ok(_ name: String) { print("ok - cosign: \(name)") }
        let village = "620102001001"
        let dir = try temporaryDirectory("ruhu-cosign")
        let authority = try TestAuthority(countyCode: "620102")
        try check(authority.keyId() == "county-620102" && authority.publicKeyHex().count == 64)
        func tablet(_ workerId: String, _ name: String, _ role: String, _ seed: Int) throws -> CosignTablet {
            try CosignTablet(workerId, name, role, seed: seed, dir: dir, authority: authority, village: village)
        }

        let leader = try tablet("w-leader", "王建军", "township_leader", 1)
        let cadre = try tablet("w-cadre", "李春梅", "village_cadre", 2)
        let handler = try tablet("w-handler", "张丽", "case_handler", 3)
        let team = [leader, cadre, handler]

        // --- device keys ---------------------------------------------------------------------
        for t in team {
            try check(t.publicKey.count == 64 && t.publicKey.allSatisfy { "0123456789abcdef".contains($0) }, t.publicKey)
            try check(t.keys.saved == ["tablet"], "key pair saved once: \(t.keys.saved)")
            try check(t.store.workerPublicKey(keyId: "tablet") == t.publicKey, "same key on the second call")
            try check(t.keys.saved.count == 1, "no second key pair")
        }
        try check(Set(team.map { $0.publicKey }).count == 3)
        let badKeyId = try assertThrows("bad key id", .invalidInput) { try handler.store.workerPublicKey(keyId: "../tablet") }
        try check(badKeyId.code == "keystore.invalid_key_id" && badKeyId.problems.single().field == "key_id", "\(badKeyId)")
        ok("each tablet made its key pair once in its Swift key store; public keys \(team.map { $0.publicKey.prefix(8) })")

        // --- trust -----------------------------------------------------------------------------
        for t in team {
            try t.store.setAuthority(keyId: authority.keyId(), publicKeyHex: authority.publicKeyHex())
            for other in team {
                let cert = try t.store.addCertificate(certJson: other.certJson)
                try check(cert.workerId == other.workerId && cert.roles == [other.role], "\(cert)")
                try check(cert.villages == [village] && cert.countyCode == nil && cert.publicKeyHex == other.publicKey)
            }
        }
        let badHex = try assertThrows("bad authority key", .invalidInput) {
            try handler.store.setAuthority(keyId: authority.keyId(), publicKeyHex: "zz" + authority.publicKeyHex().dropFirst(2))
        }
        try check(badHex.problems.single().field == "public_key_hex" && badHex.problems.single().code == "hex", "\(badHex)")
        let badJson = try assertThrows("bad certificate json", .invalidInput) { try handler.store.addCertificate(certJson: "{not json") }
        try check(badJson.problems.single().field == "cert_json" && badJson.problems.single().code == "json")
        let foreignAuthority = try TestAuthority(countyCode: "620102")
        let forged = try assertThrows("certificate of another authority", .signatureProblem) {
            try handler.store.addCertificate(certJson: foreignAuthority.certify(
                workerId: "w-x", name: "假冒", roles: ["case_handler"], villages: [village],
                publicKeyHex: handler.publicKey, validDays: 30
            ))
        }
        try check(forged.code == "certificate.bad_signature", forged.code)
        ok("authority and the three certificates accepted on every tablet; bad hex/JSON -> InvalidInput naming the field; foreign certificate -> SignatureProblem(certificate.bad_signature)")

        // --- the case handler's visit ------------------------------------------------------------
        let household = try handler.store.createHousehold(household: HouseholdData(
            id: "", countyCode: "620102", townshipCode: "620102001", villageCode: village,
            address: "一组 12 号", headMemberId: "", status: "applicant", statusSince: "2024-05-01",
            phone: nil, program: "rural_dibao", dibaoClass: 2, enrollmentStart: nil, enrollmentEnd: nil,
            members: [
                member("刘德福", "head", "1968-03-04", "011"), member("陈秀兰", "spouse", "1970-07-08", "022"),
                member("刘小军", "child", "2008-09-10", "031"), member("刘小红", "child", "2014-01-02", "042"),
            ]
        ))
        let hh = household.household.id
        let teamData = team.map { TeamMemberData(workerId: $0.workerId, role: $0.role) }
        let unknownPurpose = try assertThrows("unknown purpose", .invalidInput) {
            try handler.store.startVisit(householdId: hh, purpose: "party", team: teamData)
        }
        try check(unknownPurpose.problems.single().field == "purpose" && unknownPurpose.problems.single().code == "code.unknown")
        let visitId = try handler.store.startVisit(householdId: hh, purpose: "new_application", team: teamData)
        try check(handler.store.verifyVisit(householdId: hh, visitId: visitId).status == "draft")

        var noteGenerator = SeededGenerator(seed: 2024)
        let longNote = String((0..<1200).map { _ in
            Character(Unicode.Scalar(0x4E00 + UInt32.random(in: 0..<0x5000, using: &noteGenerator))!)
        })
        let answers = [
            AnswerData(key: "income_wages_fen", valueJson: "1860000"),
            AnswerData(key: "income_transfer_net_fen", valueJson: "312000"),
            AnswerData(key: "spending_illness_fen", valueJson: "450000"),
            AnswerData(key: "living_housing", valueJson: "\"difficult\""),
            // A long, varied description: the sealed record then needs several QR codes.
            AnswerData(key: "hardship_cause", valueJson: "\"户主患慢性病，长期服药；两个孩子在读书。\(longNote)\""),
            AnswerData(key: "member_present_signed", valueJson: "true"),
            AnswerData(key: "conclusion", valueJson: "\"eligible\""),
            AnswerData(key: "reason", valueJson: "\"家庭人均收入低于当地农村低保标准，建议纳入二类低保。\""),
        ]
        let badAnswer = try assertThrows("bad answer json", .invalidInput) {
            try handler.store.editVisitDraft(householdId: hh, visitId: visitId, answers: [AnswerData(key: "reason", valueJson: "家庭")])
        }
        try check(badAnswer.problems.single().field == "answers[0].value_json" && badAnswer.problems.single().code == "json")
        let drafted = try handler.store.editVisitDraft(
            householdId: hh, visitId: visitId, answers: answers + [AnswerData(key: "supporters", valueJson: "\"无\"")]
        )
        let removed = try handler.store.editVisitDraft(
            householdId: hh, visitId: visitId, answers: [AnswerData(key: "supporters", valueJson: nil)]
        )
        try check(drafted.draft.contains { $0.key == "supporters" } && !removed.draft.contains { $0.key == "supporters" })
        try check(removed.draft.count == answers.count && removed.draft.single { $0.key == "conclusion" }.valueJson == "\"eligible\"")
        let roleOrder = ["township_leader", "village_cadre", "case_handler"]
        try check(removed.team == teamData.sorted { roleOrder.firstIndex(of: $0.role)! < roleOrder.firstIndex(of: $1.role)! }, "\(removed.team)")
        try check(removed.revisions.isEmpty && removed.purpose == "new_application" && removed.villageCode == village)
        ok("case handler started visit \(visitId.prefix(8))… with the three-person team and edited its draft")

        let seal = SealData(
            place: PlaceData(villageCode: village, address: "一组 12 号", gps: GpsData(latE7: 360_611_000, lonE7: 1_037_834_000)),
            visitedAtUnix: 1_714_986_000
        )
        let sealed = try handler.store.sealVisit(householdId: hh, visitId: visitId, details: seal)
        let hash = sealed.contentHashHex
        try check(hash.count == 64 && sealed.revision == 1 && sealed.content.visitId == visitId && sealed.content.householdId == hh)
        try check(sealed.content.sealedBy == "w-handler" && sealed.content.place.gps?.latE7 == 360_611_000 && sealed.content.visitedAtUnix == 1_714_986_000)
        let again = try assertThrows("seal twice", .invalidInput) { try handler.store.sealVisit(householdId: hh, visitId: visitId, details: seal) }
        try check(again.code == "visit.already_sealed", again.code)
        let shown = try handler.store.visit(householdId: hh, visitId: visitId)
        try check(shown.revisions.single().contentHashHex == hash && shown.latestHashesHex == [hash] && shown.draftDiffersFrom == nil)

        try handler.store.signVisit(householdId: hh, visitId: visitId, contentHashHex: hash, role: "case_handler", keyId: "tablet")
        let afterOwn = try handler.store.verifyVisit(householdId: hh, visitId: visitId)
        try check(afterOwn.status == "incomplete" && afterOwn.revision == 1 && afterOwn.contentHashHex == hash, "\(afterOwn)")
        try check(afterOwn.missingRoles == ["township_leader", "village_cadre"], "\(afterOwn.missingRoles)")
        try check(afterOwn.signers.single().verdict == "signer.valid" && afterOwn.signers.single().name == "张丽")
        let wrongRole = try assertThrows("sign in a role the certificate lacks", .notPermitted) {
            try handler.store.signVisit(householdId: hh, visitId: visitId, contentHashHex: hash, role: "village_cadre", keyId: "tablet")
        }
        try check(wrongRole.code == "signer.wrong_role", wrongRole.code)
        try check(handler.store.visitsIncomplete(villageCode: village).single().visitId == visitId)
        try check(handler.store.visitsAwaitingSignature(workerId: "w-leader", villageCode: village).single().missingSigners.map { $0.workerId } == ["w-leader", "w-cadre"])
        try check(handler.store.visitsAwaitingSignature(workerId: "w-handler", villageCode: village).isEmpty)
        try check(handler.store.visitsComplete(villageCode: village).isEmpty)
        ok("sealed revision 1 (\(hash.prefix(12))…), signed by the case handler: incomplete, missing \(afterOwn.missingRoles); sealing twice and a wrong role refused")

        // --- co-signing with no network ----------------------------------------------------------
        let chunks = try handler.store.visitContentChunks(householdId: hh, visitId: visitId, contentHashHex: hash)
        print("cosign: sealed record \(chunks.reduce(0) { $0 + $1.count }) bytes in \(chunks.count) QR code(s): \(chunks.map { $0.count })")
        try check(chunks.count >= 2 && chunks.allSatisfy { $0.count <= 1200 }, "\(chunks.count) chunks")
        // Every co-signer scans them in another order, and one code twice.
        func scanOrder(_ seed: UInt64) -> [Data] {
            var generator = SeededGenerator(seed: seed)
            let order = (chunks + [chunks[0]]).shuffled(using: &generator)
            print("cosign: scan order \(order.map { c in chunks.firstIndex(of: c) ?? -1 })")
            return order
        }

        var responses: [String: Data] = [:]
        for (i, t) in [leader, cadre].enumerated() {
            let early = try assertThrows("sign before receiving", .notPermitted) {
                try t.store.cosign(contentHashHex: hash, role: t.role, keyId: "tablet")
            }
            try check(early.code == "visit.content_not_held", early.code)
            let receiver = try CoSignReceiver.expecting(store: t.store, contentHashHex: hash)
            let progress = try scanOrder(7 + UInt64(i)).map { try receiver.accept(chunk: $0) }
            try check(progress.filter { $0.duplicate }.count == 1, "\(progress)")
            try check(progress.last?.received == UInt32(chunks.count) && progress.allSatisfy { $0.total == UInt32(chunks.count) })
            let received = try receiver.finish()
            try check(received.contentHashHex == hash && received.content == sealed.content, "received another record")
            try check(received.content.answers.single { $0.key == "conclusion" }.valueJson == "\"eligible\"")
            let response = try t.store.cosign(contentHashHex: hash, role: t.role, keyId: "tablet")
            print("cosign: \(t.workerId) signature response \(response.count) bytes (one QR code)")
            try check(response.count < 300)
            responses[t.workerId] = response
        }
        ok("leader and cadre rebuilt the record from shuffled QR chunks (one scanned twice), read it and co-signed")

        // A worker not on the team, certified for the village, cannot co-sign.
        let outsider = try tablet("w-outsider", "赵强", "village_cadre", 4)
        try outsider.store.setAuthority(keyId: authority.keyId(), publicKeyHex: authority.publicKeyHex())
        _ = try outsider.store.addCertificate(certJson: outsider.certJson)
        let outsiderReceiver = CoSignReceiver(store: outsider.store)
        for chunk in chunks { _ = try outsiderReceiver.accept(chunk: chunk) }
        try check(outsiderReceiver.finish().contentHashHex == hash)
        let notMember = try assertThrows("non-member co-signs", .notPermitted) {
            try outsider.store.cosign(contentHashHex: hash, role: "village_cadre", keyId: "tablet")
        }
        try check(notMember.code == "signer.not_on_team", notMember.code)
        ok("a non-member's co-signature -> FfiError.NotPermitted(\(notMember.code))")

        // A locked key store cannot sign.
        cadre.keys.locked = true
        let locked = try assertThrows("locked key store", .keyStoreLocked) {
            try cadre.store.cosign(contentHashHex: hash, role: "village_cadre", keyId: "tablet")
        }
        try check(locked.code == "keystore.locked", locked.code)
        cadre.keys.locked = false
        ok("a locked key store -> FfiError.KeyStoreLocked")

        // --- the case handler imports the responses ---------------------------------------------
        let leaderResponse = try XCTUnwrap(responses["w-leader"])
        let cadreResponse = try XCTUnwrap(responses["w-cadre"])
        let afterLeader = try handler.store.importSignatureResponse(householdId: hh, visitId: visitId, contentHashHex: hash, response: leaderResponse)
        try check(afterLeader.status == "incomplete" && afterLeader.missingRoles == ["village_cadre"], "\(afterLeader)")
        let complete = try handler.store.importSignatureResponse(householdId: hh, visitId: visitId, contentHashHex: hash, response: cadreResponse)
        try check(complete.status == "complete" && complete.revision == 1 && complete.contentHashHex == hash, "\(complete)")
        try check(complete.missingRoles.isEmpty && complete.reasons.isEmpty)
        try check(complete.signers.count == 3 && complete.signers.allSatisfy { $0.verdict == "signer.valid" && $0.contentHashHex == hash }, "\(complete.signers)")
        try check(Set(complete.signers.compactMap { $0.workerId }) == ["w-leader", "w-cadre", "w-handler"])
        try check(Set(complete.signers.compactMap { $0.name }) == ["王建军", "李春梅", "张丽"])
        try check(handler.store.importSignatureResponse(householdId: hh, visitId: visitId, contentHashHex: hash, response: cadreResponse) == complete, "rescan changes nothing")
        try check(handler.store.visitsComplete(villageCode: village).single().visitId == visitId)
        try check(handler.store.visitsIncomplete(villageCode: village).isEmpty)
        try check(handler.store.visitsAwaitingSignature(workerId: "w-cadre", villageCode: village).isEmpty)
        ok("both responses imported: \(complete.status), signers \(complete.signers.map { "\($0.role ?? "?"):\($0.verdict)" })")

        // A response for another visit is refused.
        let second = try handler.store.startVisit(householdId: hh, purpose: "periodic_review", team: teamData)
        _ = try handler.store.editVisitDraft(householdId: hh, visitId: second, answers: answers)
        var secondSeal = seal
        secondSeal.visitedAtUnix = 1_715_072_400
        let secondHash = try handler.store.sealVisit(householdId: hh, visitId: second, details: secondSeal).contentHashHex
        try check(secondHash != hash)
        let otherVisit = try assertThrows("response for another visit", .invalidInput) {
            try handler.store.importSignatureResponse(householdId: hh, visitId: second, contentHashHex: secondHash, response: leaderResponse)
        }
        try check(otherVisit.code == "visit.response_refused", otherVisit.code)
        let secondVerification = try handler.store.verifyVisit(householdId: hh, visitId: second)
        try check(secondVerification.status == "incomplete" && secondVerification.signers.isEmpty)
        ok("a response for another visit -> FfiError.InvalidInput(\(otherVisit.code))")

        // A tampered response (one flipped byte of the signature) is refused.
        var tampered = cadreResponse
        tampered[tampered.index(before: tampered.endIndex)] ^= 0x01
        let bad = try assertThrows("tampered response", .signatureProblem) {
            try handler.store.importSignatureResponse(householdId: hh, visitId: visitId, contentHashHex: hash, response: tampered)
        }
        try check(bad.code == "signer.bad_signature", bad.code)
        try check(handler.store.verifyVisit(householdId: hh, visitId: visitId).status == "complete")
        let garbage = try assertThrows("not a response", .invalidInput) {
            try handler.store.importSignatureResponse(householdId: hh, visitId: visitId, contentHashHex: hash, response: chunks[0])
        }
        try check(garbage.code.hasPrefix("response."), garbage.code)
        ok("a tampered response -> FfiError.SignatureProblem(\(bad.code)); a content chunk scanned as a response -> InvalidInput(\(garbage.code))")

        // --- a fourth store verifies on its own ---------------------------------------------------
        let supervisor = try tablet("w-supervisor", "周敏", "county_supervisor", 5)
        let changes = try handler.store.changesSince(householdId: hh, heads: [])
        let imported = try supervisor.store.importChanges(householdId: hh, changes: changes)
        try check(imported.household.id == hh && imported.household.members.count == 4)
        let noTrust = try assertThrows("verify without an authority", .notPermitted) {
            try supervisor.store.verifyVisit(householdId: hh, visitId: visitId)
        }
        try check(noTrust.code == "visit.no_authority", noTrust.code)
        try supervisor.store.setAuthority(keyId: authority.keyId(), publicKeyHex: authority.publicKeyHex())
        let fourth = try supervisor.store.verifyVisit(householdId: hh, visitId: visitId)
        try check(fourth.status == "complete" && fourth.contentHashHex == hash && fourth.signers.count == 3, "\(fourth)")
        try check(fourth.signers.allSatisfy { $0.verdict == "signer.valid" })
        try check(supervisor.store.visit(householdId: hh, visitId: visitId).revisions.single().content == sealed.content)
        try check(supervisor.store.visitsComplete(villageCode: village).single().visitId == visitId, "lists recomputed once the authority is set")
        ok("\(changes.count) changes carried to a fourth store, which verifies the visit as complete with only the authority key")

        print("cosign: all checks passed")
    }

    // MARK: fieldday.kts
    // The real county-authority command and a real sync server on loopback; three tablets
    // enroll, record, seal and co-sign a visit with no network, sync; a fourth tablet verifies
    // it; an edit survives an app restart; a tampered export is refused.

    func testFieldDay() throws {
        #if os(macOS)
        try fieldDay()
        #else
        throw XCTSkip("the field day starts sync-server and county-authority: run it with `swift test` on a Mac (ios/run-tests.sh)")
        #endif
    }
}

#if os(macOS)
extension FieldDayTests {
    func fieldDay() throws {
        func ok(_ name: String) { print("ok - fieldday: \(name)") }
        let bin = try XCTUnwrap(
            ProcessInfo.processInfo.environment["RUHU_BIN_DIR"], "RUHU_BIN_DIR is not set (ios/run-tests.sh sets it)"
        )
        let authorityDir = try temporaryDirectory("ruhu-authority")
        let serverData = try temporaryDirectory("ruhu-server")
        let tablets = try temporaryDirectory("ruhu-tablets")
        let authorityKey = authorityDir.appendingPathComponent("authority.key").path

        func start(_ args: [String]) throws -> (Process, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: args[0])
            process.arguments = Array(args.dropFirst())
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            return (process, pipe)
        }
        func command(_ args: [String]) throws -> String {
            let (process, pipe) = try start(args)
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            try check(process.terminationStatus == 0, "\(args.joined(separator: " ")) failed:\n\(out)")
            return out
        }
        func authority(_ args: [String]) throws -> String { try command(["\(bin)/county-authority"] + args) }

        // --- the county authority, on its own machine (here: its own folder) -------------------
        _ = try authority(["init", "--key-file", authorityKey, "--county", "620102", "--key-id", "county-620102"])
        _ = try authority(["public-key", "--key-file", authorityKey, "--out", serverData.appendingPathComponent("authority-public-key.json").path])

        // --- the sync server on loopback -------------------------------------------------------
        let (server, serverPipe) = try start(["\(bin)/sync-server", "--listen", "127.0.0.1:0", "--data-dir", serverData.path])
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var output = ""
        var url: String?
        while url == nil {
            let data = serverPipe.fileHandleForReading.availableData
            try check(!data.isEmpty, "sync-server exited")
            output += String(decoding: data, as: UTF8.self)
            if let range = output.range(of: #"listening on http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                url = String(output[range].dropFirst("listening on ".count))
            }
        }
        let serverUrl = try XCTUnwrap(url)
        serverPipe.fileHandleForReading.readabilityHandler = { _ = $0.availableData } // keep draining its log
        func post(_ path: String, _ body: String) throws -> Int {
            var request = URLRequest(url: try XCTUnwrap(URL(string: serverUrl + path)))
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "content-type")
            request.httpBody = Data(body.utf8)
            var status = -1
            let done = DispatchSemaphore(value: 0)
            URLSession.shared.dataTask(with: request) { _, response, _ in
                status = (response as? HTTPURLResponse)?.statusCode ?? -1
                done.signal()
            }.resume()
            done.wait()
            return status
        }
        let (insideServer, insidePipe) = try start(["\(bin)/county-authority", "init", "--key-file",
                                                    serverData.appendingPathComponent("x.key").path, "--county", "620102", "--key-id", "k"])
        _ = insidePipe.fileHandleForReading.readDataToEndOfFile()
        insideServer.waitUntilExit()
        try check(insideServer.terminationStatus != 0, "the authority key was written into the server's data folder")
        ok("sync-server started at \(serverUrl); the authority key stays outside its data folder")

        // --- tablets and their platform key stores --------------------------------------------
        let village = "620102001001"
        func bundleWith(_ t: FieldDayTablet, certificate: String) throws -> String {
            let out = authorityDir.appendingPathComponent("\(t.workerId).enroll.json").path
            _ = try authority(["enroll", "--key-file", authorityKey, "--server-url", serverUrl, "--server-pin", "loopback-plain",
                               "--certificate", certificate, "--out", out])
            return try String(contentsOfFile: out, encoding: .utf8)
        }
        func bundle(_ t: FieldDayTablet) throws -> String { try bundleWith(t, certificate: t.certFile) }
        // The authority re-issues the certificate for other villages (a reassignment).
        func recertify(_ t: FieldDayTablet, _ villages: String) throws -> String {
            let out = authorityDir.appendingPathComponent("\(t.workerId).reassigned.cert.json").path
            _ = try authority(["certify", "--key-file", authorityKey, "--worker-id", t.workerId, "--name", t.name, "--roles", t.role,
                               "--villages", villages, "--public-key", t.publicKey, "--valid-days", "365", "--out", out])
            return out
        }
        func tablet(_ workerId: String, _ name: String, _ role: String, _ seed: Int, countyScope: Bool = false) throws -> FieldDayTablet {
            try FieldDayTablet(workerId, name, role, seed: seed, countyScope: countyScope, tablets: tablets,
                               authorityDir: authorityDir, village: village, authority: authority, bundle: bundle)
        }
        let leader = try tablet("w-leader", "王建军", "township_leader", 1)
        let cadre = try tablet("w-cadre", "李春梅", "village_cadre", 2)
        let handler = try tablet("w-handler", "张丽", "case_handler", 3)
        let supervisor = try tablet("w-county", "周敏", "county_supervisor", 4, countyScope: true)
        let everyone = [leader, cadre, handler, supervisor]

        // The county configuration (certificates, policy, the working-day calendar and the county's
        // time zone) goes to the server, signed by the authority.
        let config = authorityDir.appendingPathComponent("config.json").path
        let calendar = authorityDir.appendingPathComponent("calendar.json")
        let thisYear = Calendar(identifier: .gregorian).component(.year, from: Date())
        try ("{\"format\": 1, \"label\": \"test calendar: weekends only\", \"years\": ["
            + (thisYear - 1 ... thisYear + 1).map { "{\"year\": \($0)}" }.joined(separator: ", ") + "]}")
            .write(to: calendar, atomically: true, encoding: .utf8)
        let standards = authorityDir.appendingPathComponent("standards.json")
        try ("{\"format\": 1, \"label\": \"test standards\", \"regions\": [{\"region_code\": \"620100\","
            + " \"region_name\": \"兰州市\", \"year\": 2022, \"urban_dibao\": {\"fen\": 91400, \"per\": \"month\"}, \"rural_dibao\": {\"fen\": 526800, \"per\": \"year\"},"
            + " \"rural_classes\": {\"class_1\": {\"fen\": 350000, \"per\": \"year\"}, \"class_2\": {\"fen\": 330000, \"per\": \"year\"},"
            + " \"class_3\": {\"fen\": 100800, \"per\": \"year\"}, \"class_4\": {\"fen\": 69600, \"per\": \"year\"}},"
            + " \"care_subsidy\": {\"self_care\": {\"fen\": 180000, \"per\": \"year\"}, \"partial_loss\": {\"fen\": 361200, \"per\": \"year\"}, \"complete_loss\": {\"fen\": 541200, \"per\": \"year\"}}}]}")
            .write(to: standards, atomically: true, encoding: .utf8)
        let countyData = ["--calendar", calendar.path, "--standards", standards.path, "--utc-offset-seconds", "28800"]
        _ = try authority(["config", "--key-file", authorityKey, "--serial", "1", "--min-app-version", "0.1.0", "--valid-days", "30"]
            + everyone.flatMap { ["--certificate", $0.certFile] } + countyData + ["--out", config])
        try check(post("/v1/config", String(contentsOfFile: config, encoding: .utf8)) == 200)

        // Invalid input: a bundle that is not one, an insecure server.
        let bad = try assertThrows("not a bundle", .invalidInput) { try handler.store.enroll(bundleJson: "{\"format\":1}", keyId: "device") }
        try check(bad.problems.single().code == "enrollment.malformed", "\(bad)")
        let insecure = try handler.bundle().replacingOccurrences(of: "http://127.0.0.1", with: "http://10.0.0.1")
        let plain = try assertThrows("plain http off loopback", .invalidInput) { try handler.store.enroll(bundleJson: insecure, keyId: "device") }
        try check(plain.problems.single().code == "enrollment.insecure_server", "\(plain)")
        let notEnrolled = try assertThrows("sync before enrollment", .notPermitted) { try handler.sync() }
        try check(notEnrolled.code == "sync.not_enrolled", notEnrolled.code)
        for t in everyone {
            let enrolled = try t.store.enroll(bundleJson: t.bundle(), keyId: "device")
            try check(enrolled.workerId == t.workerId && enrolled.countyCode == "620102" && enrolled.serverUrl == serverUrl)
            try check(enrolled.serverTlsPin == "loopback-plain")
        }
        let foreign = try assertThrows("someone else's bundle", .invalidInput) { try handler.store.enroll(bundleJson: leader.bundle(), keyId: "device") }
        try check(foreign.problems.single().code == "identity.key_mismatch", "\(foreign)")
        for t in everyone { try check(t.sync().configSerial == 1) }
        ok("four tablets enrolled with bundles from county-authority and fetched the signed county configuration")

        // --- the case handler's household and visit ---------------------------------------
        let household = try handler.store.createHousehold(household: HouseholdData(
            id: "", countyCode: "620102", townshipCode: "620102001", villageCode: village, address: "一组 12 号",
            headMemberId: "", status: "applicant", statusSince: "2026-11-01", phone: nil, program: "rural_dibao",
            dibaoClass: 2, enrollmentStart: nil, enrollmentEnd: nil,
            members: [member("刘德福", "head", "1968-03-04", "011"), member("陈秀兰", "spouse", "1970-07-08", "022"),
                      member("刘小军", "child", "2008-09-10", "031"), member("刘小红", "child", "2014-01-02", "042")]
        ))
        let hh = household.household.id
        let team = [leader, cadre, handler].map { TeamMemberData(workerId: $0.workerId, role: $0.role) }
        let visitId = try handler.store.startVisit(householdId: hh, purpose: "new_application", team: team)
        let answers = [
            AnswerData(key: "income_wages_fen", valueJson: "1860000"), AnswerData(key: "income_transfer_net_fen", valueJson: "312000"),
            AnswerData(key: "living_housing", valueJson: "\"difficult\""), AnswerData(key: "hardship_cause", valueJson: "\"户主患慢性病，长期服药。\""),
            AnswerData(key: "member_present_signed", valueJson: "true"), AnswerData(key: "conclusion", valueJson: "\"eligible\""),
            AnswerData(key: "reason", valueJson: "\"家庭人均收入低于当地农村低保标准。\""),
        ]
        _ = try handler.store.editVisitDraft(householdId: hh, visitId: visitId, answers: answers)
        // A photo of the household's documents: bytes in, a hash out (kept encrypted in the store).
        let photo = Data((0..<250_000).map { UInt8(($0 * 31) % 251) })
        let photoHash = try handler.store.addAttachment(householdId: hh, bytes: photo)
        try check(handler.store.addAttachment(householdId: hh, bytes: photo) == photoHash, "the same photo is stored once")
        try assertThrows("an empty attachment", .invalidInput) { try handler.store.addAttachment(householdId: hh, bytes: Data()) }
        let sealed = try handler.store.sealVisit(householdId: hh, visitId: visitId, details: SealData(
            place: PlaceData(villageCode: village, address: "一组 12 号", gps: nil), visitedAtUnix: 1_795_000_000,
            attachmentHashesHex: [photoHash]
        ))
        let hash = sealed.contentHashHex
        try handler.store.signVisit(householdId: hh, visitId: visitId, contentHashHex: hash, role: "case_handler", keyId: "device")
        ok("case handler recorded household \(hh.prefix(8))… and sealed visit \(visitId.prefix(8))… (\(hash.prefix(12))…)")

        // --- co-signing in the household, no network --------------------------------------
        let chunks = try handler.store.visitContentChunks(householdId: hh, visitId: visitId, contentHashHex: hash)
        for (i, t) in [leader, cadre].enumerated() {
            let receiver = try CoSignReceiver.expecting(store: t.store, contentHashHex: hash)
            var generator = SeededGenerator(seed: UInt64(i))
            for chunk in (chunks + chunks.prefix(1)).shuffled(using: &generator) { _ = try receiver.accept(chunk: chunk) }
            try check(receiver.finish().contentHashHex == hash)
            let response = try t.store.cosign(contentHashHex: hash, role: t.role, keyId: "device")
            _ = try handler.store.importSignatureResponse(householdId: hh, visitId: visitId, contentHashHex: hash, response: response)
        }
        let complete = try handler.store.verifyVisit(householdId: hh, visitId: visitId)
        try check(complete.status == "complete" && complete.signers.count == 3 && complete.signers.allSatisfy { $0.verdict == "signer.valid" }, "\(complete)")
        ok("co-signed through \(chunks.count) QR code(s) and two one-QR responses: \(complete.status)")

        // --- sync with the server ---------------------------------------------------------
        try check(handler.store.unsyncedChanges().changes > 0)
        let pushed = try handler.sync()
        // The photo goes first (a status request, then one chunk), then the one sync round trip.
        try check(pushed.roundTrips == 3 && pushed.notAccepted.isEmpty && pushed.pushedChanges > 0, "\(pushed)")
        try check(pushed.attachmentsUploaded == 1 && pushed.attachmentBytesSent == UInt64(photo.count), "\(pushed)")
        try check(handler.store.unsyncedChanges().changes == 0)
        for t in [leader, cadre, supervisor] {
            let pulled = try t.sync()
            // The sync round trip, then the photo the pulled visit lists.
            try check(pulled.roundTrips == 2 && pulled.pulledChanges > 0 && pulled.refusedPulled == 0, "\(t.workerId): \(pulled)")
            try check(pulled.attachmentsFetched == 1 && t.store.attachment(hashHex: photoHash) == photo, "\(t.workerId): \(pulled)")
        }
        let onSupervisor = try supervisor.store.verifyVisit(householdId: hh, visitId: visitId)
        try check(onSupervisor.status == "complete" && Set(onSupervisor.signers.compactMap { $0.workerId }) == ["w-leader", "w-cadre", "w-handler"], "\(onSupervisor)")
        try check(supervisor.store.household(householdId: hh).household == handler.store.household(householdId: hh).household)
        try check(leader.store.visitsComplete(villageCode: village).single().visitId == visitId)
        let again = try handler.sync()
        try check(again.roundTrips == 1 && again.pushedChanges == 0 && again.pulledChanges == 0 && again.bytesReceived < 2048, "\(again)")
        ok("synced through the server: pushed \(pushed.pushedChanges) changes and a \(photo.count)-byte photo in \(pushed.bytesSent) bytes; the supervisor's tablet verifies the visit as complete; a quiet reconnect is one round trip of \(again.bytesSent + again.bytesReceived) bytes")

        // --- an edit on one tablet reaches the others; restart resumes signing ------------
        let view = try cadre.store.household(householdId: hh)
        var moved = view.household
        moved.address = "一组 12 号（新址）"
        _ = try cadre.store.updateHousehold(household: moved, heads: view.heads)
        cadre.store = nil // the only reference: the store is closed here (Kotlin: close())
        cadre.store = try TabletStore.open(path: cadre.path, storeId: "tablet", workerId: "w-cadre", keyStore: cadre.keys)
        try check(cadre.store.resumeSigning())
        try check(cadre.sync().notAccepted.isEmpty)
        _ = try handler.sync()
        try check(handler.store.household(householdId: hh).household.address == "一组 12 号（新址）")
        ok("an edit made before an app restart is signed after resumeSigning() and reaches the case handler")

        // --- the local link, and a tampered record ------------------------------------------
        let export = try handler.store.exportHousehold(householdId: hh, heads: [])
        let before = try leader.store.household(householdId: hh)
        var tampered = export
        tampered[tampered.index(tampered.endIndex, offsetBy: -20)] ^= 0x40
        let flagged = try assertThrows("tampered export", nil) { try leader.store.importHousehold(payload: tampered) }
        try check(flagged.kind == .signatureProblem || flagged.kind == .invalidInput, "\(flagged)")
        let code = flagged.code
        print("fieldday: tampered export refused with \(code)")
        try check(leader.store.household(householdId: hh) == before, "nothing changed")
        let linked = try leader.store.importHousehold(payload: export)
        try check(linked.household == handler.store.household(householdId: hh).household, "the intact export brings the cadre's edit")
        ok("a tampered local-link export is refused (\(code)) and changes nothing; the intact one imports")

        // --- the home-visit form and the life of a case -----------------------------------------
        let formAnswers = "{\"members\": [{\"name\": \"王秀英\", \"id_number\": \"620102195001011234\", \"relation\": \"head\", \"age\": 200}]}"
        let formProblems = try handler.store.checkAnswers(templateId: "home-visit", answersJson: formAnswers)
        try check(formProblems.contains { $0.question == "id_number" && $0.roster == "members" && $0.row == 0 && $0.code.hasPrefix("resident_id") }, "\(formProblems)")
        try check(formProblems.contains { $0.question == "age" && $0.row == 0 } && formProblems.allSatisfy { !$0.messageZh.isEmpty && !$0.messageEn.isEmpty }, "\(formProblems)")
        try assertThrows("unknown template", .notFound) { try handler.store.checkAnswers(templateId: "no-such-form", answersJson: "{}") }
        // Scoring: the county's rural standard (Lanzhou 2022: 5,268 yuan a year), then the SAMPLE
        // "3+1" rubric refuses a form that does not pass its template.
        let standardFen = try handler.store.dibaoStandardFen(year: 2022, rural: true)
        try check(standardFen == 526_800, "\(standardFen)")
        let params = "{\"standard_fen\": \(standardFen), \"appraisal\": \"passed\"}"
        let unscored = try assertThrows("scoring an invalid form", .invalidInput) {
            try handler.store.scoreAnswers(rubricId: "sample-3plus1", answersJson: formAnswers, paramsJson: params)
        }
        try check(unscored.problems.contains { $0.field.contains("id_number") }, "\(unscored)")
        _ = try handler.store.recordCaseEvent(householdId: hh, eventJson: "{\"kind\": \"apply\", \"program\": \"rural_dibao\"}")
        let accepted = try handler.store.recordCaseEvent(householdId: hh, eventJson: "{\"kind\": \"accept\", \"missing_materials\": [\"户口簿\"]}")
        try check(accepted.stage == "accepted" && accepted.missingMaterials == ["户口簿"], "\(accepted)")
        try assertThrows("accept twice", .invalidInput) {
            try handler.store.recordCaseEvent(householdId: hh, eventJson: "{\"kind\": \"accept\", \"missing_materials\": []}")
        }
        let duties = try handler.store.casesDue(villageCode: village).filter { $0.householdId == hh }
        let due = try duties.filter { $0.duty == "start_investigation" }.single()
        try check(!due.overdue && !duties.contains { $0.overdue }, "\(duties)")
        ok("the home-visit form names each bad answer (\(formProblems.count) problems, zh + en); the case is \(accepted.stage ?? "none"), investigation due by \(due.dueOn)")
        // A visit filled with the home-visit form keeps the version it started with; unfinished
        // answers wait for the seal, wrong ones are refused naming the roster row.
        let formVisit = try handler.store.startVisitWithForm(householdId: hh, purpose: "periodic_review", team: team, formId: "home-visit")
        let formVisitData = try handler.store.visit(householdId: hh, visitId: formVisit)
        try check(formVisitData.templateId == "home-visit" && formVisitData.templateVersion == 1 && formVisitData.templateHashHex.count == 64)
        let wrongForm = try assertThrows("a wrong ID number in the form", .invalidInput) {
            try handler.store.setVisitAnswers(householdId: hh, visitId: formVisit, answersJson: formAnswers)
        }
        try check(wrongForm.problems.contains { $0.field == "draft.members[0].id_number" }, "\(wrongForm)")
        _ = try handler.store.setVisitAnswers(householdId: hh, visitId: formVisit, answersJson: "{\"visit_place\": \"一组 12 号\", \"visit_mode\": \"in_person\"}")
        try check(handler.store.visitAnswers(householdId: hh, visitId: formVisit).contains("in_person"))
        let unfinished = try assertThrows("sealing an unfinished form", .invalidInput) {
            try handler.store.sealVisit(householdId: hh, visitId: formVisit, details: SealData(
                place: PlaceData(villageCode: village, address: "一组 12 号", gps: nil), visitedAtUnix: 1_796_000_000
            ))
        }
        try check(unfinished.problems.contains { $0.field == "draft.conclusion" && $0.code == "form.required" }, "\(unfinished)")
        // Amounts from the county's standards: gap mode (Lanzhou 2022 rural, 439 yuan a month;
        // income 3,600 yuan a year for 4 persons = 75 yuan a month each) and class mode (class 2
        // of the test standards, 3,300 yuan a year = 275 yuan a month per person).
        let gap = try handler.store.householdBenefitGap(householdId: hh, year: 2022, rural: true, householdIncomeYearlyFen: 360_000)
        try check(gap.mode == "gap_to_standard" && gap.members == 4 && gap.perPersonMonthlyFen == 36_400 && gap.monthlyFen == 145_600, "\(gap)")
        let byClass = try handler.store.householdBenefitByClass(householdId: hh, year: 2022, ruralClass: 2)
        try check(byClass.mode == "fixed_by_class" && byClass.monthlyFen == 110_000, "\(byClass)")
        try assertThrows("class 5", .invalidInput) { try handler.store.householdBenefitByClass(householdId: hh, year: 2022, ruralClass: 5) }
        // The investigation started when the case was accepted, recorded now; then publicity.
        let acceptedAt = try XCTUnwrap(accepted.stageSinceUnix)
        try assertThrows("dated before the stage began", .invalidInput) {
            try handler.store.recordCaseEventAt(householdId: hh, eventJson: "{\"kind\": \"start_investigation\"}", happenedAtUnix: acceptedAt - 86_400)
        }
        _ = try handler.store.recordCaseEventAt(householdId: hh, eventJson: "{\"kind\": \"start_investigation\"}", happenedAtUnix: acceptedAt)
        _ = try handler.store.recordCaseEvent(householdId: hh, eventJson: "{\"kind\": \"complete_investigation\"}")
        let inPublicity = try handler.store.recordCaseEvent(householdId: hh, eventJson: "{\"kind\": \"township_opinion\", \"eligible\": true, \"proposal\": {\"monthly_fen\": \(gap.monthlyFen), \"household_size\": 4}, \"reason\": \"人均收入低于标准\"}")
        try check(inPublicity.stage == "publicity", "\(inPublicity)")
        try check(handler.store.publicityList(villageCode: village) == [PublicityLineData(name: "刘德福", householdSize: 4, monthlyFen: 145_600)])
        let csv = try handler.store.publicityCsv(villageCode: village)
        try check(csv == "户主姓名,保障人数,月保障金额(元)\n刘德福,4,1456.00\n", csv)
        ok("a home-visit form visit (v\(formVisitData.templateVersion)) refuses a wrong ID and an unfinished seal; benefit \(gap.monthlyFen) fen/month (gap) or \(byClass.monthlyFen) (class 2); publicity lists only name, size and amount")

        // --- dispersed care: plan, log on three tablets offline, problem ledger, leader visits ---
        let county = TimeZone(secondsFromGMT: 8 * 3600)!
        let dayFormat = DateFormatter()
        dayFormat.calendar = Calendar(identifier: .gregorian)
        dayFormat.timeZone = county
        dayFormat.dateFormat = "yyyy-MM-dd"
        func daysFromToday(_ n: Int) -> String { dayFormat.string(from: Date().addingTimeInterval(Double(n) * 86_400)) }
        let today = daysFromToday(0)
        let person = try handler.store.household(householdId: hh).household.members.filter { $0.name == "刘德福" }.single().memberId
        @discardableResult
        func care(_ t: FieldDayTablet, _ json: String) throws -> CareRecordData {
            try t.store.recordCareEvent(householdId: hh, eventJson: json)
        }
        try care(handler, "{\"kind\": \"enrolled\", \"person_id\": \"\(person)\", \"since\": \"\(daysFromToday(-60))\"}")
        let activities = "{\"eating\": true, \"dressing\": true, \"getting_in_out_of_bed\": true, \"toileting\": true, \"walking_indoors\": false, \"bathing\": false}"
        let assessed = try care(handler, "{\"kind\": \"assessed\", \"person_id\": \"\(person)\", \"on\": \"\(today)\", \"activities\": \(activities)}")
        try check(assessed.selfCareLevel == "partial_loss" && assessed.inCare, "\(assessed)")
        try check(Set(assessed.tasks.map { $0.taskId }) == ["clean_home", "wash_clothes_bedding", "haircut", "buy_daily_necessities"], "\(assessed.tasks)")
        try check(handler.store.nursingSubsidyFen(householdId: hh, personId: person, year: 2022) == 361_200)
        try assertThrows("an assessment without its activities", .invalidInput) {
            try care(handler, "{\"kind\": \"assessed\", \"person_id\": \"\(person)\", \"on\": \"\(today)\"}")
        }
        try care(handler, "{\"kind\": \"leader_assigned\", \"person_id\": \"\(person)\", \"leader_id\": \"w-leader\", \"leader_name\": \"王强\", \"from\": \"\(daysFromToday(-60))\"}")
        for t in [handler, leader, cadre] { try check(t.sync().notAccepted.isEmpty) }
        try check(handler.store.overdueLeaderVisits(villageCode: village, on: nil).contains { $0.personId == person && $0.leaderId == "w-leader" })
        // Offline: the cadre and the case handler both log this week's cleaning (one period, done
        // once), the leader logs a haircut and the visit; the cadre opens a problem with a photo.
        let now = ISO8601DateFormatter().string(from: Date())
        func done(_ t: FieldDayTablet, _ task: String, _ note: String) throws {
            try care(t, "{\"kind\": \"task_done\", \"person_id\": \"\(person)\", \"task_id\": \"\(task)\", \"done_at\": \"\(now)\", \"note\": \"\(note)\", \"photos\": []}")
        }
        try done(cadre, "clean_home", "打扫卫生")
        try done(handler, "clean_home", "又打扫了一次")
        try done(leader, "haircut", "理发")
        try care(leader, "{\"kind\": \"leader_visited\", \"person_id\": \"\(person)\", \"leader_id\": \"w-leader\", \"visited_on\": \"\(today)\", \"note\": \"走访\", \"photos\": []}")
        let stovePhoto = try cadre.store.addAttachment(householdId: hh, bytes: Data((0..<4_000).map { UInt8($0 % 199) }))
        let problemId = try cadre.store.newCareId()
        try care(cadre, "{\"kind\": \"problem_opened\", \"person_id\": \"\(person)\", \"problem_id\": \"\(problemId)\", \"area\": \"heating\", \"description\": \"炉子漏烟\", \"evidence\": [\"\(stovePhoto)\"]}")
        for t in [cadre, handler, leader, cadre, handler] { try check(t.sync().notAccepted.isEmpty) }
        let records = try [leader, cadre, handler].map { try $0.store.careRecord(householdId: hh, personId: person, on: nil) }
        try check(records.allSatisfy { $0.log.count == 3 } && Set(records.map { Set($0.log.map { $0.eventId }) }).count == 1, "\(records)")
        try check(Set(records.map { $0.tasks.map { "\($0.taskId)=\($0.status.state)" } }).count == 1, "\(records.map { $0.tasks })")
        let tasks = Dictionary(uniqueKeysWithValues: records[0].tasks.map { ($0.taskId, $0.status.state) })
        try check(tasks["clean_home"] == "done" && tasks["haircut"] == "done" && tasks["wash_clothes_bedding"] == "overdue", "\(tasks)")
        let overdue = try handler.store.overdueCareTasks(villageCode: village, on: nil).filter { $0.personId == person }.map { $0.taskId }
        try check(overdue.contains("wash_clothes_bedding") && !overdue.contains("clean_home"), "\(overdue)")
        // Two weeks on, with nothing logged since, the weekly cleaning is overdue too.
        let later = try handler.store.careRecord(householdId: hh, personId: person, on: daysFromToday(14))
        try check(later.tasks.filter { $0.taskId == "clean_home" }.single().status.state == "overdue", "\(later.tasks)")
        try check(!handler.store.overdueLeaderVisits(villageCode: village, on: nil).contains { $0.personId == person })
        // The problem reached everyone; it closes only with a rectification record with evidence.
        try check(leader.store.openCareProblems(villageCode: village).single().problemId == problemId)
        try check(leader.store.attachment(hashHex: stovePhoto).count == 4_000, "the problem's photo travelled with it")
        try assertThrows("a rectification without evidence", .invalidInput) {
            try care(leader, "{\"kind\": \"problem_rectified\", \"person_id\": \"\(person)\", \"problem_id\": \"\(problemId)\", \"rectification\": {\"rectified_by\": \"王强\", \"rectified_on\": \"\(today)\", \"action\": \"换了新炉子\", \"evidence\": []}}")
        }
        let fixedPhoto = try leader.store.addAttachment(householdId: hh, bytes: Data((0..<4_000).map { UInt8($0 % 197) }))
        let fixed = try care(leader, "{\"kind\": \"problem_rectified\", \"person_id\": \"\(person)\", \"problem_id\": \"\(problemId)\", \"rectification\": {\"rectified_by\": \"王强\", \"rectified_on\": \"\(today)\", \"action\": \"换了新炉子\", \"evidence\": [\"\(fixedPhoto)\"]}}")
        let closed = try fixed.problems.single()
        try check(!closed.open && closed.historySteps == 2, "\(fixed.problems)")
        for t in [leader, cadre, handler] { try check(t.sync().notAccepted.isEmpty) }
        try check([leader, cadre, handler].allSatisfy { (try? $0.store.openCareProblems(villageCode: village).isEmpty) == true })
        ok("care of \(person.prefix(8))…: \(records[0].log.count) log entries identical on three tablets (the week's cleaning logged twice counts once), wash overdue, the leader's visit recorded, the stove problem closed only with evidence")

        // --- back in the office: the team lead's view --------------------------------------
        for t in [leader, cadre, handler] { _ = try t.sync() }
        try check(leader.store.officeView(villageCode: village).backlog.unsyncedChanges == 0)
        for (t, address) in [(leader, "一组 12 号（东屋）"), (cadre, "一组 12 号（西屋）")] {
            let v = try t.store.household(householdId: hh)
            var edited = v.household
            edited.address = address
            _ = try t.store.updateHousehold(household: edited, heads: v.heads)
        }
        let waiting = try leader.store.officeView(villageCode: nil).backlog
        try check(waiting.workerId == "w-leader" && waiting.unsyncedChanges >= 1 && waiting.households == 1, "\(waiting)")
        try check(waiting.oldestUnsyncedUnix != nil && (waiting.oldestAgeSeconds ?? -1) >= 0, "\(waiting)")
        try check(cadre.sync().notAccepted.isEmpty)
        try check(leader.sync().notAccepted.isEmpty)
        let office = try leader.store.officeView(villageCode: village)
        try check(office.backlog.unsyncedChanges == 0 && office.backlog.oldestAgeSeconds == nil, "\(office.backlog)")
        let inConflict = try office.conflicts.single()
        try check(inConflict.householdId == hh && inConflict.villageCode == village && inConflict.headName == "刘德福", "\(inConflict)")
        let address = try inConflict.conflicts.single()
        try check(address.field == "profile.address", address.field)
        try check(Set(address.values.map { ($0.author ?? "-") + "=" + $0.valueJson }) ==
            ["w-leader=\"一组 12 号（东屋）\"", "w-cadre=\"一组 12 号（西屋）\""], "\(address)")
        try check(address.values.allSatisfy { $0.timeUnix > 1_700_000_000 })
        _ = try leader.store.resolveConflict(householdId: hh, field: "profile.address", valueJson: "\"一组 12 号（东屋）\"")
        try check(leader.store.officeView(villageCode: village).conflicts.isEmpty)
        _ = try leader.sync()
        _ = try cadre.sync()
        let cadreOffice = try cadre.store.officeView(villageCode: nil)
        let cadreView = try cadre.store.household(householdId: hh)
        try check(cadreOffice.conflicts.isEmpty && cadreView.household.address == "一组 12 号（东屋）")
        ok("the team lead sees the address conflict with both values, who wrote each and when, resolves it, and it is gone on the cadre's tablet after sync")

        let second = try handler.store.startVisit(householdId: hh, purpose: "periodic_review", team: team)
        _ = try handler.store.editVisitDraft(householdId: hh, visitId: second, answers: answers)
        let secondHash = try handler.store.sealVisit(householdId: hh, visitId: second, details: SealData(
            place: PlaceData(villageCode: village, address: "一组 12 号", gps: nil), visitedAtUnix: 1_796_000_000
        )).contentHashHex
        try handler.store.signVisit(householdId: hh, visitId: second, contentHashHex: secondHash, role: "case_handler", keyId: "device")
        let awaiting = try handler.store.officeView(villageCode: village).awaitingSignatures.single()
        try check(awaiting.visitId == second && Set(awaiting.missingSigners.map { $0.workerId }) == ["w-leader", "w-cadre"], "\(awaiting)")
        ok("the office view lists the review visit as waiting for the leader's and the cadre's signatures")

        // --- reassignment: the leader and the cadre move to another village ----------------
        let otherVillage = "620102001002"
        let leaderMoved = try recertify(leader, otherVillage)
        let cadreMoved = try recertify(cadre, otherVillage)
        _ = try authority(["config", "--key-file", authorityKey, "--serial", "2", "--min-app-version", "0.1.0", "--valid-days", "30"]
            + (everyone.map { $0.certFile } + [leaderMoved, cadreMoved]).flatMap { ["--certificate", $0] } + countyData + ["--out", config])
        try check(post("/v1/config", String(contentsOfFile: config, encoding: .utf8)) == 200)
        // The cadre still has an edit the server has not seen: kept, and refused once out of scope.
        let c = try cadre.store.household(householdId: hh)
        var withPhone = c.household
        withPhone.phone = "13800000000"
        _ = try cadre.store.updateHousehold(household: withPhone, heads: c.heads)
        for (t, cert) in [(leader, leaderMoved), (cadre, cadreMoved)] {
            _ = try t.store.enroll(bundleJson: bundleWith(t, certificate: cert), keyId: "device")
        }
        let early = try cadre.store.purgeOutOfScope()
        let earlyKept = try early.kept.single()
        try check(early.purged.isEmpty && earlyKept.householdId == hh && earlyKept.reason == "purge.unsynced_changes", "\(early)")
        let refused = try cadre.sync()
        let refusedHousehold = try refused.notAccepted.single()
        try check(refusedHousehold.code == "sync.out_of_scope", "\(refused)")
        let keptReason = try XCTUnwrap(refused.purge).kept.single()
        try check(keptReason.householdId == hh && keptReason.reason == "purge.not_accepted" && keptReason.unsyncedChanges >= 1, "\(keptReason)")
        let rejectedView = try cadre.store.officeView(villageCode: nil).notAccepted.single()
        try check(rejectedView.householdId == hh && rejectedView.kind == "rejected" && rejectedView.code == "sync.out_of_scope" && rejectedView.canRebase, "\(rejectedView)")
        try check(cadre.store.household(householdId: hh).household.phone == "13800000000")
        ok("the cadre's unsynced edit keeps the household (\(earlyKept.reason), then \(keptReason.reason): \(rejectedView.code))")
        // The leader had synced everything: the next sync purges the household.
        let purged = try XCTUnwrap(leader.sync().purge)
        try check(purged.purged == [hh] && purged.kept.isEmpty && purged.walTruncated, "\(purged)")
        try assertThrows("purged household", .notFound) { _ = try leader.store.household(householdId: hh) }
        try check(leader.store.listVillage(villageCode: village, program: nil, status: nil).isEmpty)
        try check(leader.store.findByIdNumber(villages: [village], idNumber: household.household.members[0].idNumber).isEmpty)
        let emptied = try leader.store.officeView(villageCode: nil)
        try check(emptied.conflicts.isEmpty && emptied.awaitingSignatures.isEmpty && emptied.backlog.unsyncedChanges == 0)
        let again2 = try leader.store.purgeOutOfScope()
        try check(again2.purged.isEmpty && again2.kept.isEmpty)
        ok("after the reassignment the leader's sync purged household \(hh.prefix(8))… (synced, out of scope)")
        print("fieldday: all checks passed")
    }
}
#endif
