// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import Supervisor
#if canImport(Glibc)
import Glibc
#endif

/// DynamicUser= uids: one per driver, never an account's, given back on
/// release, locked so that a second allocator (systemd's, another daemon's)
/// never takes one in use, and taken back across a daemon restart through
/// the lock's descriptor.
@Suite struct DynamicUIDsTests {
    /// A lock directory of the test's own.
    func directory() throws -> String {
        let d = NSTemporaryDirectory() + "dynuid-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// `count` consecutive uids no account or group has, from `from` up.
    func freeRange(count: UInt32, from: UInt32 = 61184) -> ClosedRange<UInt32>? {
        var start = from
        while start < 65400 {
            let r = start...(start + count - 1)
            if r.allSatisfy({ !DynamicUIDs.isKnown($0) }) { return r }
            start += count
        }
        return nil
    }

    @Test func aUIDPerOwnerTheSameOnEveryAsk() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let range = try #require(freeRange(count: 16))
        let u = DynamicUIDs(range: range, lockDirectory: dir)
        let names = (1...16).map { "nic\($0)" }
        let leases = try names.map { try u.acquire($0) }
        #expect(Set(leases.map(\.uid)).count == 16, "16 owners, 16 uids")
        #expect(leases.allSatisfy { range.contains($0.uid) })
        #expect(try u.acquire("nic3") == leases[2], "asking again gives the same lease")
        // The lock file names the owner.
        let text = try String(contentsOfFile: dir + "/\(leases[0].uid)", encoding: .utf8)
        #expect(text == "drivermgr-nic1\n")
        #expect(throws: SupervisorError.self) { try u.acquire("one-too-many") }
    }

    /// A host without systemd has no /run/systemd: the lock directory is
    /// made with its parents (a busybox guest's first u-driver found none).
    @Test func aLockDirectoryWithoutItsParentsIsMade() throws {
        let top = try directory()
        defer { try? FileManager.default.removeItem(atPath: top) }
        let dir = top + "/run/systemd/dynamic-uid"
        let range = try #require(freeRange(count: 1))
        let l = try DynamicUIDs(range: range, lockDirectory: dir).acquire("nic")
        #expect(FileManager.default.fileExists(atPath: dir + "/\(l.uid)"))
    }

    @Test func aReleasedUIDIsHandedOutAgain() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let range = try #require(freeRange(count: 2))
        let u = DynamicUIDs(range: range, lockDirectory: dir)
        let a = try u.acquire("a")
        _ = try u.acquire("b")
        #expect(throws: SupervisorError.self) { try u.acquire("c") }
        u.release("a")
        #expect(!FileManager.default.fileExists(atPath: dir + "/\(a.uid)"), "its lock file goes")
        #expect(u.lease(of: "a") == nil)
        #expect(try u.acquire("c").uid == a.uid)
    }

    @Test func neverAnAccountsUIDNorNobody() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A uid the password database has, next to one it does not.
        var known: UInt32?
        setpwent()
        while let pw = getpwent() {
            let id = pw.pointee.pw_uid
            if id > 0, id < 60000, !DynamicUIDs.isKnown(id + 1) { known = id; break }
        }
        endpwent()
        let k = try #require(known, "no account to test against")
        let u = DynamicUIDs(range: k...(k + 1), lockDirectory: dir)
        #expect(try u.acquire("x").uid == k + 1, "uid \(k) belongs to \(String(cString: getpwuid(k).pointee.pw_name))")
        #expect(throws: SupervisorError.self) { try u.acquire("y") }
        // 65534 (nobody) and 65535 never, known or not.
        let top = DynamicUIDs(range: 65534...65535, lockDirectory: dir)
        #expect(throws: SupervisorError.self) { try top.acquire("z") }
    }

    @Test func aSecondAllocatorNeverTakesAUIDInUse() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let range = try #require(freeRange(count: 2))
        let first = DynamicUIDs(range: range, lockDirectory: dir)
        let second = DynamicUIDs(range: range, lockDirectory: dir)
        let a = try first.acquire("a")
        let b = try second.acquire("b")
        #expect(a.uid != b.uid, "the lock on \(a.uid) is respected")
        #expect(throws: SupervisorError.self) { try second.acquire("c") }
        first.release("a")
        #expect(try second.acquire("c").uid == a.uid)
    }

    /// The daemon's restart: a copy of the lock's descriptor (systemd's fd
    /// store) keeps the uid locked while no daemon runs; the next daemon
    /// takes the lease back from that copy, and nobody else can have it.
    @Test func aLeaseSurvivesTheDaemonThroughItsLockDescriptor() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let range = try #require(freeRange(count: 2))
        var old: DynamicUIDs? = DynamicUIDs(range: range, lockDirectory: dir)
        let lease = try #require(try old?.acquire("nic1"))
        let stored = dup(lease.lockFD)
        old = nil // the daemon is gone; its own descriptor with it
        close(lease.lockFD)
        let next = DynamicUIDs(range: range, lockDirectory: dir)
        // Another owner cannot get the stored uid while the copy holds it.
        let other = try next.acquire("other")
        #expect(other.uid != lease.uid)
        next.release("other")
        #expect(next.adopt("nic1", uid: lease.uid, lockFD: stored))
        #expect(next.lease(of: "nic1")?.uid == lease.uid)
        #expect(try next.acquire("nic2").uid != lease.uid)
        // A descriptor that is not that uid's lock file is refused.
        let wrong = open(dir, O_RDONLY)
        #expect(!next.adopt("nic3", uid: range.upperBound, lockFD: wrong))
    }
}
