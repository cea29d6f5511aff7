// SPDX-License-Identifier: GPL-2.0
import Testing
@testable import Supervisor
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SchedStatTests {
    @Test func parsesTheSecondField() {
        #expect(SchedStat.parse(Array("1234 5678 9\n".utf8)) == 5678)
        #expect(SchedStat.parse(Array("1234\n".utf8)) == nil)
        #expect(SchedStat.parse(Array("a b c".utf8)) == nil)
        #expect(SchedStat.parse([UInt8]()) == nil)
    }

    /// This process's wait is read from its threads and never goes down; a
    /// pid that does not exist has none.
    @Test func readsALiveProcessAndNotAMissingOne() throws {
        let a = try #require(SchedStat.runQueueWait(pid: getpid()))
        var x: UInt64 = 0
        for i in 0..<2_000_000 { x &+= UInt64(i) }
        let b = try #require(SchedStat.runQueueWait(pid: getpid()))
        #expect(b >= a)
        withExtendedLifetime(x) {}
        #expect(SchedStat.runQueueWait(pid: 0) == nil)
        #expect(SchedStat.runQueueWait(pid: Int32.max) == nil)
    }

    /// num_threads is the 20th field, counted after the command name, which
    /// may hold spaces and parentheses.
    @Test func threadCountComesAfterTheName() {
        let stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 7 0 12345 1000 100 18446744073709551615\n"
        #expect(SchedStat.threadCount(stat: Array(stat.utf8)) == 7)
        #expect(SchedStat.threadCount(stat: Array("4242 (x) S 1 2".utf8)) == nil)
        #expect(SchedStat.threadCount(stat: Array("no name".utf8)) == nil)
    }

    /// The reader keeps its files open: it takes in a thread started after
    /// its first read and lets it go once it ended (its wait then leaves
    /// the sum, as with a fresh listing); a missing pid reads nil.
    @Test func theReaderFollowsThreadsComingAndGoing() throws {
        let reader = RunQueueWaitReader(pid: getpid())
        _ = try #require(reader.read())
        let tid = Mutex<Int32>(0)
        let started = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
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
        let t = tid.withLock { $0 }
        #expect(t > 0)
        _ = try #require(reader.read())
        #expect(threadsOpen().contains(t))
        done.signal()
        var c: UInt64? = nil
        for _ in 0..<200 {
            c = reader.read()
            if !threadsOpen().contains(t) { break }
            usleep(10_000)
        }
        #expect(c != nil)
        #expect(!threadsOpen().contains(t))
        withExtendedLifetime(reader) {}
        #expect(RunQueueWaitReader(pid: Int32.max).read() == nil)
        #expect(RunQueueWaitReader(pid: 0).read() == nil)
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
