// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import ControlInterface
import Foundation
import XPC

/// The sound class (ALSA PCM playback + a mixer).
public enum SoundClass {
    /// Mixer controls by the name `drvctl call` takes (`enum drvxpc_mixer`).
    public static let mixerControls: [(name: String, id: UInt16)] = [
        ("master", UInt16(DRVXPC_MIXER_MASTER.rawValue)), ("pcm", UInt16(DRVXPC_MIXER_PCM.rawValue)),
        ("master-mute", UInt16(DRVXPC_MIXER_MASTER_MUTE.rawValue)),
    ]

    /// The highest value a control takes: 1 for a switch, else 100 (percent).
    static func limit(of control: UInt16?) -> UInt32 {
        control == UInt16(DRVXPC_MIXER_MASTER_MUTE.rawValue) ? 1 : 100
    }

    public static let descriptor = DeviceClassDescriptor(
        wireClass: .sound,
        registeredName: .cardName,
        registration: { "card \"\($0)\"" },
        makeClassShadow: { SoundShadow() },
        replyViolation: replyViolation,
        operations: [
            ClassOperation(name: "mixer-get", synopsis: "master|pcm|master-mute", parse: { a in
                try ClassOperation.noMoreThan(1, a, of: "mixer-get")
                return (.sndMixerGet, [.u16(.mixerControl, try control(ClassOperation.argument(a, 0, of: "mixer-get", "a control")))])
            }, result: { r in ["value": "\(r.attribute(.mixerValue)?.u32 ?? 0)"] }),
            ClassOperation(name: "mixer-set", synopsis: "master|pcm|master-mute VALUE", parse: { a in
                try ClassOperation.noMoreThan(2, a, of: "mixer-set")
                let c = try control(ClassOperation.argument(a, 0, of: "mixer-set", "a control"))
                let limit = limit(of: c)
                guard let v = UInt32(try ClassOperation.argument(a, 1, of: "mixer-set", "a value")), v <= limit else {
                    throw OperationArgumentError("value must be 0...\(limit)")
                }
                return (.sndMixerPut, [.u16(.mixerControl, c), .u32(.mixerValue, v)])
            }),
        ],
        decodeStatus: decodeStatus,
        holdClients: .datapathDisable, releaseClients: .datapathEnable)

    static func control(_ s: String) throws -> UInt16 {
        guard let c = mixerControls.first(where: { $0.name == s }) else {
            throw OperationArgumentError("no mixer control \(s); expected master, pcm or master-mute")
        }
        return c.id
    }

    static func replyViolation(_ m: XPCMessage, _ r: XPCMessage) -> ReplyViolation? {
        guard m.op == .sndMixerGet else { return nil }
        guard let v = r.attribute(.mixerValue)?.u32 else { return ReplyViolation("MIXER_GET reply without MIXER_VALUE", attribute: .mixerValue) }
        let limit = limit(of: m.attribute(.mixerControl)?.u16)
        if v > limit { return ReplyViolation("MIXER_VALUE \(v) outside 0...\(limit)", attribute: .mixerValue) }
        return nil
    }

    /// Percent of a master volume register: attenuation in 12:8, mute in 15
    /// (AC'97 0x02; the ES1370 view packs AK4531 left/right the same way).
    public static func volume(_ reg: UInt16) -> String {
        let att = Int((reg >> 8) & 0x1f)
        let pct = ((31 - att) * 100 + 15) / 31
        return String(format: "%d%%%@ (register 0x%04x)", pct, reg & 0x8000 != 0 ? ", muted" : "", reg)
    }

    static func decodeStatus(_ m: XPCMessage) -> ClassStatus {
        var s = ClassStatus()
        let rate = m.attribute(.pcmRate)?.u32, master = m.attribute(.codecMaster)?.u16
        let frames = m.attribute(.framesPlayed)?.u64, periods = m.attribute(.periods)?.u64
        let underruns = m.attribute(.underruns)?.u64, glitches = m.attribute(.glitches)?.u64
        s.number("sampleRate", rate)
        s.number("masterVolumeRegister", master)
        s.number("framesPlayed", frames)
        s.number("periods", periods)
        s.number("underruns", underruns)
        s.number("glitches", glitches)
        if let rate { s.line("Rate", "\(rate) Hz") }
        if let master { s.line("Master", volume(master)) }
        if let frames {
            s.line("Frames", "\(frames) played, \(periods ?? 0) periods, \(underruns ?? 0) underruns, \(glitches ?? 0) glitches")
        }
        return s
    }
}
