// SPDX-License-Identifier: GPL-2.0
import XPC

/// PCM parameters of an SND_HW_PARAMS upcall.
public struct PCMParams: Sendable, Equatable {
    public let rate: UInt32
    public let channels: UInt8
    /// SNDRV_PCM_FORMAT_*: 0 = S8, 1 = U8, 2 = S16_LE.
    public let format: UInt8
    public let periodFrames: UInt32
    public let bufferFrames: UInt32
    /// The PCM buffer the nucleus allocated.
    public let buffer: DMABuffer

    public init(rate: UInt32, channels: UInt8, format: UInt8, periodFrames: UInt32, bufferFrames: UInt32, buffer: DMABuffer) {
        self.rate = rate
        self.channels = channels
        self.format = format
        self.periodFrames = periodFrames
        self.bufferFrames = bufferFrames
        self.buffer = buffer
    }

    /// Bytes per frame.
    public var frameBytes: UInt32 { UInt32(channels) * (format == 2 ? 2 : 1) }
}

/// Mixer controls (`enum drvxpc_mixer`).
public enum MixerControl: UInt16, Sendable, CaseIterable {
    case master = 1, pcm = 2, masterMute = 3
    /// The name `drvctl call … mixer-set NAME` takes.
    public var name: String {
        switch self {
        case .master: return "master"
        case .pcm: return "pcm"
        case .masterMute: return "master-mute"
        }
    }
}

/// A sound u-driver: the non-data-path half of an ALSA PCI driver, in the
/// order of snd_pcm_ops and the mixer. Each method is an upcall; the runtime
/// calls them one at a time.
public protocol SoundDriver: UDriver {
    func open() async throws
    func close() async throws
    func hwParams(_ params: PCMParams) async throws
    /// With `reattach` the stream is running: rebuild software state from
    /// the parameters, do not touch the registers.
    func prepare(reattach: Bool) async throws
    /// Value 0...100 (percent) or 0/1 for switches.
    func mixerGet(_ control: MixerControl) async throws -> UInt32
    func mixerPut(_ control: MixerControl, _ value: UInt32) async throws
}

extension SoundDriver {
    public static var deviceClass: XPCDeviceClass { .sound }
    public static var settingOps: Set<XPCOp> { [.sndHwParams, .sndPrepare, .sndMixerPut] }

    /// The sound upcalls → ``SoundDriver``'s methods.
    public func dispatch(_ m: XPCMessage) async throws -> [XPCAttribute] {
        switch m.op {
        case .sndOpen: try await open()
        case .sndClose: try await close()
        case .sndHwParams:
            let buf = DMABuffer(handle: try m.u32(.dmaHandle), size: 0, role: DMARole.pcmPlayback.rawValue)
            try await hwParams(PCMParams(rate: try m.u32(.pcmRate), channels: try m.u8(.pcmChannels),
                                         format: try m.u8(.pcmFormat), periodFrames: try m.u32(.pcmPeriodFrames),
                                         bufferFrames: try m.u32(.pcmBufferFrames), buffer: buf))
        case .sndPrepare: try await prepare(reattach: m.flags.contains(.reattach))
        case .sndMixerGet:
            let c = try MixerControl(m)
            return [.u16(.mixerControl, c.rawValue), .u32(.mixerValue, try await mixerGet(c))]
        case .sndMixerPut:
            try await mixerPut(try MixerControl(m), try m.u32(.mixerValue))
        default:
            throw UDriverError(errno: 56, "\(m.op.name) is not a sound upcall")
        }
        return []
    }
}

extension MixerControl {
    /// The control MIXER_CONTROL names.
    init(_ m: XPCMessage) throws {
        let raw = try m.u16(.mixerControl)
        guard let c = MixerControl(rawValue: raw) else { throw UDriverError.invalid(.mixerControl, "no control \(raw)") }
        self = c
    }
}
