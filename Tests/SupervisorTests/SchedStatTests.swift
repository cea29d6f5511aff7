// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import Supervisor
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One test at a time: the reader test starts and ends threads, which take
/// their wait out of this process's sum.
@Suite(.serialized) struct SchedStatTests {
    @Test func parsesTheSecondField() {
        #expect(SchedStat.parse(Array("1234 5678 9\n".utf8)) == 5678)
        #expect(SchedStat.parse(Array("1234\n".utf8)) == nil)
        #expect(SchedStat.parse(Array("a b c".utf8)) == nil)
        #expect(SchedStat.parse([UInt8]()) == nil)
    }

    /// This process's wait is the sum over its threads, so it is at least
    /// the wait of the thread reading it (read first: a thread's own wait
    /// never goes down). The process's sum itself may go down between two
    /// readings, as other suites' threads end. A pid that does not exist
    /// has none.
    @Test func readsALiveProcessAndNotAMissingOne() throws {
        var buf = [UInt8](repeating: 0, count: 128)
        let fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        close(fd)
        let own = try #require(n > 0 ? SchedStat.parse(buf[..<n]) : nil)
        var x: UInt64 = 0
        for i in 0..<2_000_000 { x &+= UInt64(i) }
        withExtendedLifetime(x) {}
        let total = try #require(SchedStat.runQueueWait(pid: getpid()))
        #expect(total >= own)
        #expect(SchedStat.runQueueWait(pid: 0) == nil)
        #expect(SchedStat.runQueueWait(pid: Int32.max) == nil)
    }

    /// The reader keeps its files open: a thread that ended makes it list
    /// the threads again (its wait then leaves the sum, as with a fresh
    /// listing); one started after a listing is read once the listing is
    /// `listingAge` old; a missing pid reads nil.
    @Test func theReaderFollowsThreadsComingAndGoing() throws {
        let thread = try ParkedThread()
        let reader = RunQueueWaitReader(pid: getpid())
        _ = try #require(reader.read())
        #expect(threadsOpen().contains(thread.tid))
        thread.end()
        var c: UInt64? = nil
        for _ in 0..<200 where threadsOpen().contains(thread.tid) {
            usleep(10_000)
            c = reader.read()
        }
        #expect(c != nil)
        #expect(!threadsOpen().contains(thread.tid))

        // A new thread is seen once the listing is too old (here at once;
        // the other suites' threads ending make any reader list again, so
        // whether one within its minute sees it is left to chance).
        let eager = RunQueueWaitReader(pid: getpid(), listingAge: .zero)
        _ = try #require(eager.read())
        let second = try ParkedThread()
        defer { second.end() }
        _ = try #require(eager.read())
        #expect(threadsOpen().contains(second.tid))
        withExtendedLifetime((reader, eager)) {}
        #expect(RunQueueWaitReader(pid: Int32.max).read() == nil)
        #expect(RunQueueWaitReader(pid: 0).read() == nil)
    }

    /// A thread that waits until told to end, and its id.
    private final class ParkedThread: Sendable {
        let tid: Int32
        private let done = DispatchSemaphore(value: 0)

        init() throws {
            let tid = Mutex<Int32>(0), started = DispatchSemaphore(value: 0), done = self.done
            Thread.detachNewThread {
                // /proc/thread-self is /proc/PID/task/TID of the thread reading it.
                var buf = [CChar](repeating: 0, count: 64)
                let n = readlink("/proc/thread-self", &buf, 63)
                let me = n > 0 ? Int32(String(cString: buf).split(separator: "/").last ?? "") : nil
                tid.withLock { $0 = me ?? 0 }
                started.signal()
                done.wait()
            }
            started.wait()
            self.tid = tid.withLock { $0 }
            try #require(self.tid > 0)
        }

        func end() { done.signal() }
    }

    /// The threads whose schedstat file this process holds open (the
    /// reader's descriptors, found through /proc/self/fd).
    private func threadsOpen() -> Set<Int32> {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var tids = Set<Int32>()
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            var buf = [CChar](repeating: 0, count: 256)
            let len = readlink("/proc/self/fd/\(name)", &buf, 255)
            guard len > 0 else { continue }
            let path = String(cString: buf).split(separator: "/")
            if path.count == 5, path[4] == "schedstat", path[2] == "task", let t = Int32(path[3]) { tids.insert(t) }
        }
        return tids
    }
}
