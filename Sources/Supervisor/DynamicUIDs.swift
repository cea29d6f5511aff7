// SPDX-License-Identifier: GPL-2.0
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A uid (and the gid of the same number) per driver, picked from a
/// reserved range as systemd's `DynamicUser=` does, with no account in the
/// password database: u-drivers of different drivers never share a uid, so
/// the kernel's per-user limits (descriptors in flight, processes, pending
/// signals, inotify instances, …) are per driver, and one driver's process
/// is a stranger to another's.
///
/// A uid is taken the way systemd takes its dynamic uids, so the two never
/// hand out the same one: a BSD lock (`flock`) on `DIRECTORY/UID`
/// (`/run/systemd/dynamic-uid/UID` by default, the file systemd itself
/// uses), held for as long as the uid is in use. A uid that the password or
/// group database knows (a real account, or a dynamic user nss-systemd
/// resolves) is never picked, nor 65534 (nobody) and 65535.
public final class DynamicUIDs: Sendable {
    /// A uid held for one owner, with the descriptor that holds its lock.
    public struct Lease: Sendable, Equatable {
        public let uid: UInt32
        /// The locked file's descriptor (owned by the allocator); a copy
        /// (systemd's fd store) keeps the lock while the daemon restarts.
        public let lockFD: Int32
    }

    /// systemd's range for dynamic users (UIDS-GIDS.md).
    public static let systemdRange: ClosedRange<UInt32> = 61184...65519
    /// systemd's lock directory for them.
    public static let systemdLockDirectory = "/run/systemd/dynamic-uid"

    public let range: ClosedRange<UInt32>
    public let lockDirectory: String
    private let leases = Mutex<[String: Lease]>([:])

    public init(range: ClosedRange<UInt32> = DynamicUIDs.systemdRange,
                lockDirectory: String = DynamicUIDs.systemdLockDirectory) {
        self.range = range
        self.lockDirectory = lockDirectory
    }

    /// The uid `owner` holds, if any.
    public func lease(of owner: String) -> Lease? { leases.withLock { $0[owner] } }

    /// The uid `owner` holds, or a free one, locked for it. Tries
    /// `preferred` first (the uid it had before a daemon restart), then a
    /// uid derived from the name (so a driver tends to keep its uid), then
    /// every other in the range.
    public func acquire(_ owner: String, preferring preferred: UInt32? = nil) throws -> Lease {
        try leases.withLock { held in
            if let l = held[owner] { return l }
            // Parents too: a host without systemd (an initramfs, a
            // container) has no /run/systemd, and no uid could be locked.
            try? FileManager.default.createDirectory(atPath: lockDirectory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o755])
            let inUse = Set(held.values.map(\.uid))
            let count = UInt64(range.upperBound - range.lowerBound) + 1
            let start = UInt64(Self.hash(owner) % count)
            var candidates: [UInt32] = []
            if let preferred, range.contains(preferred) { candidates.append(preferred) }
            var lastError: Int32 = 0
            for c in candidates + (0..<count).lazy.map({ self.range.lowerBound + UInt32((start + $0) % count) }) {
                guard !inUse.contains(c), !Self.isReserved(c) else { continue }
                switch lock(c, owner) {
                case .success(let fd):
                    let l = Lease(uid: c, lockFD: fd)
                    held[owner] = l
                    return l
                case .failure(let e):
                    if e.errno != EWOULDBLOCK && e.errno != EEXIST { lastError = e.errno }
                }
            }
            let why = lastError != 0 ? " (last error: \(String(cString: strerror(lastError))))" : ""
            throw SupervisorError(.spawnFailed, errno: EBUSY,
                                  "no free uid in \(range.lowerBound)-\(range.upperBound) under \(lockDirectory)\(why)")
        }
    }

    /// Takes back the lease a previous daemon held for `owner`: `lockFD`
    /// (owned from here on) must be the lock file of `uid` in this
    /// directory, still linked. False (and `lockFD` closed) otherwise.
    public func adopt(_ owner: String, uid: UInt32, lockFD: Int32) -> Bool {
        var mine = stat(), named = stat()
        guard range.contains(uid), fstat(lockFD, &mine) == 0, mine.st_nlink > 0,
              stat(path(uid), &named) == 0, mine.st_ino == named.st_ino, mine.st_dev == named.st_dev,
              flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            close(lockFD)
            return false
        }
        let taken = leases.withLock { held -> Bool in
            if held[owner] != nil || held.values.contains(where: { $0.uid == uid }) { return true }
            held[owner] = Lease(uid: uid, lockFD: lockFD)
            return false
        }
        if taken { close(lockFD) }
        return !taken
    }

    /// Gives `owner`'s uid back: its lock file goes, the lock with the last
    /// copy of the descriptor. Only once no process runs as that uid.
    public func release(_ owner: String) {
        guard let l = leases.withLock({ $0.removeValue(forKey: owner) }) else { return }
        unlink(path(l.uid))
        close(l.lockFD)
    }

    func path(_ uid: UInt32) -> String { (lockDirectory as NSString).appendingPathComponent("\(uid)") }

    /// Locks `DIRECTORY/uid` as systemd does: create, flock without
    /// waiting, make sure the file was not unlinked meanwhile; then refuse a
    /// uid the databases know, and write the owner's name into the file.
    private func lock(_ uid: UInt32, _ owner: String) -> Result<Int32, LockError> {
        let p = path(uid)
        while true {
            let fd = open(p, O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
            guard fd >= 0 else { return .failure(LockError(errno: errno)) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let e = errno
                close(fd)
                return .failure(LockError(errno: e))
            }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                let e = errno
                close(fd)
                return .failure(LockError(errno: e))
            }
            if st.st_nlink == 0 {
                close(fd)
                continue
            }
            if Self.isKnown(uid) {
                unlink(p)
                close(fd)
                return .failure(LockError(errno: EEXIST))
            }
            let text = Array("drivermgr-\(owner)\n".utf8)
            let n = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { _ = ftruncate(fd, off_t(n)) }
            return .success(fd)
        }
    }

    struct LockError: Error { let errno: Int32 }

    /// 65534 (nobody, the overflow uid) and 65535 (16-bit -1) are never handed out.
    static func isReserved(_ uid: UInt32) -> Bool { uid == 65534 || uid == 65535 || uid == 0 || uid == UInt32.max }

    /// Whether the password or group database has an entry with this number.
    public static func isKnown(_ uid: UInt32) -> Bool {
        var pw = passwd(), gr = group()
        var pwOut: UnsafeMutablePointer<passwd>?
        var grOut: UnsafeMutablePointer<group>?
        var buf = [CChar](repeating: 0, count: 16384)
        if getpwuid_r(uid, &pw, &buf, buf.count, &pwOut) == 0, pwOut != nil { return true }
        if getgrgid_r(uid, &gr, &buf, buf.count, &grOut) == 0, grOut != nil { return true }
        return false
    }

    /// FNV-1a of the name: stable across runs (Swift's Hasher is seeded).
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
