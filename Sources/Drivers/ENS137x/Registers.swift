// SPDX-License-Identifier: GPL-2.0
// Ensoniq AudioPCI ES1370/ES1371 registers, in address order, each with its
// access note and its bits beneath it. Facts from Linux's sound/pci/ens1370.c.

/// BAR 0 register offsets.
enum Reg {
    /// R/W: interrupt / chip select control.
    static let control: UInt32 = 0x00
    /// R/O: interrupt / chip select status.
    static let status: UInt32 = 0x04
    /// W/O: UART control (byte).
    static let uartControl: UInt32 = 0x09
    /// R/W: UART reserved (byte).
    static let uartRes: UInt32 = 0x0a
    /// R/W: memory page select for 0x30..0x3f.
    static let memPage: UInt32 = 0x0c
    /// W/O (ES1370): AK4531 codec write.
    static let codec1370: UInt32 = 0x10
    /// R/W (ES1371): sample rate converter interface.
    static let smpRate1371: UInt32 = 0x10
    /// R/W (ES1371): AC'97 codec read/write.
    static let codec1371: UInt32 = 0x14
    /// R/W (ES1371): legacy control/status.
    static let legacy1371: UInt32 = 0x18
    /// R/W: serial interface control.
    static let serial: UInt32 = 0x20
    /// R/W: DAC2 sample count (period - 1 in 15:0; current count in 31:16).
    static let dac2Count: UInt32 = 0x28
    /// R/W, page 0x0c: DAC2 frame (buffer) bus address.
    static let dac2Frame: UInt32 = 0x38
    /// R/W, page 0x0c: DAC2 frame size (dwords - 1 in 15:0).
    static let dac2Size: UInt32 = 0x3c
}

/// CONTROL bits.
enum Control {
    static let dac2Enable: UInt32 = 1 << 5
    /// ES1371: warm AC'97 reset.
    static let syncReset1371: UInt32 = 1 << 14
    /// ES1370: DAC2 clock divider field (PCLKDIV, bits 28:16).
    static func pclkDiv(_ d: UInt32) -> UInt32 { (d & 0x1fff) << 16 }
    static let pclkDivMask: UInt32 = 0x1fff << 16
    /// ES1370: codec interface enable.
    static let codecEnable1370: UInt32 = 1 << 1
}

/// SERIAL bits (DAC2 only; the u-driver drives playback channel 2).
enum Serial {
    static let p2LoopSel: UInt32 = 1 << 14
    static let p2Pause: UInt32 = 1 << 12
    static let p2IntEnable: UInt32 = 1 << 9
    static let p2DacSen: UInt32 = 1 << 6
    static func p2EndInc(_ v: UInt32) -> UInt32 { (v & 7) << 19 }
    static let p2EndIncMask: UInt32 = 7 << 19
    static func p2StInc(_ v: UInt32) -> UInt32 { (v & 7) << 16 }
    static let p2StIncMask: UInt32 = 7 << 16
    /// DAC2 mode: bit 1 = 16-bit, bit 0 = stereo.
    static func p2Mode(_ v: UInt32) -> UInt32 { (v & 3) << 2 }
    static let p2ModeMask: UInt32 = 3 << 2
}

/// ES1371 sample rate converter interface bits.
enum SRC {
    static func ramAddress(_ a: UInt32) -> UInt32 { (a & 0x7f) << 25 }
    static let ramWriteEnable: UInt32 = 1 << 24
    /// R/O: SRC RAM busy.
    static let ramBusy: UInt32 = 1 << 23
    static let disable: UInt32 = 1 << 22
    static let disableP1: UInt32 = 1 << 21
    static let disableP2: UInt32 = 1 << 20
    static let disableR1: UInt32 = 1 << 19
    /// The state bits a read waits on (ens1370.c: 0x00870000), and "state 1".
    static let stateMask: UInt32 = 0x0087_0000
    static let stateReadable: UInt32 = 0x0001_0000

    // SRC RAM addresses.
    static let dac1: UInt32 = 0x70, dac2: UInt32 = 0x74, adc: UInt32 = 0x78
    static let volADC: UInt32 = 0x6c, volDAC1: UInt32 = 0x7c, volDAC2: UInt32 = 0x7e
    static let truncN: UInt32 = 0x00, intRegs: UInt32 = 0x01, vfreqFrac: UInt32 = 0x03
}

/// ES1371 AC'97 codec interface bits.
enum Codec1371 {
    /// R/O: codec ready (read data valid).
    static let ready: UInt32 = 1 << 31
    /// R/O: codec access in progress.
    static let writeInProgress: UInt32 = 1 << 30
    /// Read select.
    static let readSelect: UInt32 = 1 << 23
    static func write(_ reg: UInt32, _ data: UInt16) -> UInt32 { (reg & 0x7f) << 16 | UInt32(data) }
    static func read(_ reg: UInt32) -> UInt32 { (reg & 0x7f) << 16 | readSelect }
}

/// AC'97 codec registers (Intel AC'97 2.3, section 5.7) the driver uses.
enum AC97 {
    static let reset: UInt32 = 0x00
    /// Master volume: bit 15 mute, 13:8 left and 5:0 right attenuation, 1.5 dB steps.
    static let masterVolume: UInt32 = 0x02
    /// PCM out volume: bit 15 mute, 12:8 / 4:0 gain, 0x08 = 0 dB.
    static let pcmOutVolume: UInt32 = 0x18
    static let powerdownStatus: UInt32 = 0x26
    static let vendorID1: UInt32 = 0x7c
    static let vendorID2: UInt32 = 0x7e
    static let mute: UInt16 = 0x8000
}

/// AK4531 codec registers (ES1370), written through CODEC (0x10).
enum AK4531 {
    static let masterLeft: UInt32 = 0x00
    static let masterRight: UInt32 = 0x01
    static let voiceLeft: UInt32 = 0x02
    static let voiceRight: UInt32 = 0x03
    static let reset: UInt32 = 0x16
    /// Bit 7 mutes; 4:0 attenuation in 2 dB steps.
    static let mute: UInt8 = 0x80
    static func write(_ reg: UInt32, _ v: UInt8) -> UInt32 { (reg & 0xff) << 8 | UInt32(v) }
}

/// ES1370 DAC2 clock: 1411200 Hz / (PCLKDIV + 2) (ES_1370_SRTODIV).
enum Clock1370 {
    static let sourceHz: UInt32 = 1_411_200
    static func divider(forRate r: UInt32) -> UInt32 { sourceHz / r - 2 }
}
