// SPDX-License-Identifier: GPL-2.0
import DeviceClasses
import Foundation
import ShadowDriver
import XPC

/// The workloads whose instructions scripts/instruction-counts.sh counts
/// under callgrind, in this process (drivermgrd's broker path cannot be
/// counted so: valgrind 3.19 has neither clone3 nor pidfd_open, which the
/// daemon spawns and watches u-drivers with): each runs `n` times, and the script divides the
/// difference between two values of `n` by their difference, so that
/// start-up and exit cancel out. Instruction counts are the same for the
/// same binary and input whatever else the machine does, which wall time
/// on a shared 2-core machine is not.
enum InstructionWorkload: String, CaseIterable {
    /// Encode and decode one upcall as the broker sees it (NET_SET_RX_MODE
    /// with flags and a two-address multicast list).
    case codec
    /// The net shadow's record step for a completed NET_SET_RX_MODE.
    case shadow
    static func rxMode(_ i: Int) -> XPCMessage {
        let macs: [XPCAttribute] = [.binary(.mac, [0x01, 0x00, 0x5e, 0, 0, UInt8(truncatingIfNeeded: i)]),
                                    .binary(.mac, [0x33, 0x33, 0, 0, 0, 1])]
        return XPCMessage(op: .netSetRxMode, flags: .request, seq: UInt32(truncatingIfNeeded: i) | 1, instance: 2,
                          attributes: [.u32(.rxFlags, UInt32(i & 3)), .nested(.mcList, macs), .u32(.upcallID, 7)])
    }

    /// Runs the in-process workloads; returns a checksum so that nothing is
    /// optimised away.
    func run(_ n: Int) throws -> Int {
        var sum = 0
        // The messages are made before the loop: only the measured step runs
        // n times.
        let requests = (0..<4).map(Self.rxMode)
        let replies = requests.map { XPCMessage.reply(to: $0) }
        switch self {
        case .codec:
            for i in 0..<n {
                let bytes = requests[i & 3].bytes
                let m = try XPCMessage.decode(bytes)
                sum &+= m.attributes.count &+ bytes.count
            }
        case .shadow:
            guard let net = DeviceClasses.named("net") else { throw XPCError(.remote, "no net class") }
            var shadow = net.makeShadow()
            for i in 0..<n {
                shadow.record(requests[i & 3], reply: replies[i & 3])
            }
            sum &+= shadow.replayLog(instance: 2).count
        }
        return sum
    }
}
