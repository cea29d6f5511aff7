// SPDX-License-Identifier: GPL-2.0
import XPC

/// What a u-driver's reply must satisfy beyond decoding: the op it answers,
/// a status of 0 or a negative errno, and the values its class allows.
/// A violation is a `bad-parameter` failure.
enum ReplyContract {
    /// Link speeds a 10/100/1000 NIC class can report.
    static let linkSpeeds: Set<UInt32> = [10, 100, 1000]

    static func violation(request m: XPCMessage, reply r: XPCMessage) -> (String, XPCAttributeID?)? {
        guard r.op == m.op else { return ("reply to \(m.op.name) carries op \(r.op.name)", nil) }
        guard r.status <= 0, r.status >= -4095 else { return ("status \(r.status) is neither 0 nor a negative errno", nil) }
        guard r.status == 0 else { return nil }
        switch m.op {
        case .sndMixerGet:
            guard let v = r.attribute(.mixerValue)?.u32 else { return ("MIXER_GET reply without MIXER_VALUE", .mixerValue) }
            let limit: UInt32 = m.attribute(.mixerControl)?.u16 == 3 ? 1 : 100
            if v > limit { return ("MIXER_VALUE \(v) outside 0...\(limit)", .mixerValue) }
        case .netGetLink:
            guard let s = r.attribute(.linkSpeed)?.u32, r.attribute(.linkUp) != nil else {
                return ("NET_GET_LINK reply without LINK_UP and LINK_SPEED", .linkSpeed)
            }
            if !linkSpeeds.contains(s) { return ("LINK_SPEED \(s) Mbit/s is not 10, 100 or 1000", .linkSpeed) }
        default:
            break
        }
        return nil
    }
}
