// SPDX-License-Identifier: GPL-2.0
import Dispatch
import Synchronization

/// Runs the jobs of the tasks that prefer it on the thread that calls
/// ``run()`` (a u-driver's main thread), one at a time, in order.
final class MainThreadExecutor: TaskExecutor, Sendable {
    private struct Jobs: @unchecked Sendable { var queue: [UnownedJob] = [] }
    private let jobs = Mutex(Jobs())
    /// Counts the jobs queued: a futex, not a dispatch queue.
    private let ready = DispatchSemaphore(value: 0)

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.queue.append(unowned) }
        ready.signal()
    }

    /// Runs jobs as they come, for ever.
    func run() -> Never {
        while true {
            ready.wait()
            guard let job = jobs.withLock({ $0.queue.isEmpty ? nil : $0.queue.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
