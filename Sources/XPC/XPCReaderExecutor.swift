// SPDX-License-Identifier: GPL-2.0
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs tasks on a connection's reader thread, between the messages it
/// reads: an event loop, as SwiftNIO's EventLoop is for a channel.
///
/// A task that prefers this executor (`withTaskExecutorPreference`) and
/// awaits a call on the same connection is resumed by the reader thread
/// itself when the reply arrives: no wake-up of a thread of the
/// concurrency pool, which on a loaded or virtualised machine costs more
/// than the round trip. A u-driver serves its upcalls this way.
///
/// Jobs enqueued from the reader thread run before it polls again; from any
/// other thread, they wake it. After the reader stops, jobs go to the global
/// concurrent executor, so a task that still holds this preference runs on.
/// Anything a job does blocks the reader: a job must not wait synchronously
/// for a reply from the same connection (awaiting it is what it is for).
public final class XPCReaderExecutor: TaskExecutor, Sendable {
    private struct State: @unchecked Sendable {
        var jobs: [UnownedJob] = []
        var reader: pthread_t?
        var stopped = false
    }
    private let state = Mutex(State())
    private let wake: @Sendable () -> Void

    init(wake: @escaping @Sendable () -> Void) { self.wake = wake }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        enum Then { case none, wake, global }
        let then = state.withLock { s -> Then in
            if s.stopped { return .global }
            s.jobs.append(unowned)
            guard let r = s.reader else { return .wake }
            return pthread_equal(r, pthread_self()) != 0 ? .none : .wake
        }
        switch then {
        case .none: break
        case .wake: wake()
        case .global: globalConcurrentExecutor.enqueue(ExecutorJob(unowned))
        }
    }

    /// The reader thread, at its start.
    func attach() { state.withLock { $0.reader = pthread_self() } }

    /// On the reader thread: runs every job queued, and those they queue,
    /// until none is left.
    func runPending() {
        while true {
            let batch = state.withLock { s -> [UnownedJob] in
                defer { s.jobs.removeAll(keepingCapacity: true) }
                return s.jobs
            }
            if batch.isEmpty { return }
            for j in batch { j.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    /// The reader stopped: what is queued, and whatever comes later, runs on
    /// the global concurrent executor.
    func stop() {
        let rest = state.withLock { s -> [UnownedJob] in
            s.stopped = true
            defer { s.jobs = [] }
            return s.jobs
        }
        for j in rest { globalConcurrentExecutor.enqueue(ExecutorJob(j)) }
    }
}
