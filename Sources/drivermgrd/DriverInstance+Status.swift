// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import DeviceClasses
import Nucleus
import ShadowDriver
import XPC

// What drvctl list and status show.
extension DriverInstance {
    // MARK: views

    func summary() -> DriverSummary {
        runtime.withLock { r in
            DriverSummary(name: name, driverClass: config.deviceClass.name, device: r.device?.slot, state: r.state,
                          pid: r.process?.pid,
                          uptimeUSec: r.process != nil ? (monotonicNanos() - r.startedAt) / 1000 : nil,
                          restarts: max(0, r.starts - 1))
        }
    }

    func status() async -> DriverStatus {
        let (lastFailure, dev, chip, build) = runtime.withLock { r in
            (r.lastFailure, r.device, r.chip, r.process != nil && !r.buildID.isEmpty ? r.buildID : nil)
        }
        var state: DeviceState?
        if let dev, let info = try? await nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: dev.instance),
                                                       timeout: Self.downcallTimeout), info.status == 0 {
            state = DeviceStateDecoder.decode(info, pciID: dev.pciID, chip: chip, as: config.deviceClass)
        }
        return DriverStatus(summary: summary(), executable: config.executable, configFiles: config.files,
                            match: config.match, xpcTimeoutUSec: TimeSpan.micros(config.xpcTimeout),
                            heartbeatUSec: TimeSpan.micros(config.heartbeat), restart: config.restart.mode.rawValue,
                            lastFailure: lastFailure, device: state, buildId: build, debug: debugStatus)
    }

    /// `drvctl verify`: the device's settings as the nucleus reads them
    /// back (DEVICE_INFO), against what the shadow says the u-driver
    /// programmed. Only while the driver serves (`active`) and no request
    /// is held, so the shadow is complete. A read-back that overlaps an
    /// upcall or a downcall other than REG_READ (a tx timeout's chip reset,
    /// say) may catch the device between two settings; it is made again
    /// 20 ms later, for up to ``manualVerifyAttempts`` tries.
    func verify() async throws -> VerifyReply {
        for attempt in 1... {
            let (state, dev, held, busy, activity) = runtime.withLock {
                ($0.state, $0.device, $0.queue.count + $0.retry.count, $0.upcallsInFlight, $0.changes)
            }
            guard state == .active, held == 0, let dev else {
                throw ManagerError.badState(name, held > 0 ? "\(held) requests held" : "\(state.rawValue), not active")
            }
            if busy == 0 {
                let info = try await nucleus.call(XPCMessage(op: .deviceInfo, flags: .request, instance: dev.instance),
                                                  timeout: Self.downcallTimeout)
                if let e = info.remoteError { throw e }
                let result = runtime.withLock { r -> (Int, [ShadowDivergence])? in
                    guard r.upcallsInFlight == 0, r.changes == activity else { return nil }
                    return r.shadow.divergences(from: info)
                }
                if let (n, diffs) = result {
                    return VerifyReply(compared: n, divergences: diffs.map {
                        DeviceDivergence(setting: $0.setting, expected: $0.expected, found: $0.found)
                    })
                }
            }
            guard attempt < Self.manualVerifyAttempts else {
                throw ManagerError.badState(name, "busy: calls to the u-driver overlapped \(attempt) read-backs")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ManagerError.badState(name, "busy")
    }
}

/// DEVICE_INFO attributes → the status view: the fields every class has,
/// then the class's own, decoded by its descriptor.
enum DeviceStateDecoder {
    static func decode(_ m: XPCMessage, pciID: String, chip: String?, as cls: DeviceClassDescriptor) -> DeviceState {
        let registered = m.attribute(cls.registeredName)?.string
        var own = cls.decodeStatus(m)
        // What crossed the nucleus's hop for this device, both ways.
        own.number("xpcMessages", m.attribute(.xpcMessages)?.u64)
        own.number("xpcBytes", m.attribute(.xpcBytes)?.u64)
        return DeviceState(pciID: pciID, chip: m.attribute(.chipName)?.string ?? chip, registeredAs: registered,
                           registration: registered.map(cls.registration), dataPath: m.attribute(.datapathOn).map { $0.u8 != 0 },
                           fields: own.fields, values: own.values)
    }
}
