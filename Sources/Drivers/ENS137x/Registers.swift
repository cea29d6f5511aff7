// SPDX-License-Identifier: GPL-2.0
// Ensoniq AudioPCI ES1370/ES1371 registers and bits, and their codecs':
// Swift names for the map written once in
// module/include/chips/es137x_regs.h (CChips). No offset or bit is
// written here; the field helpers shift by the header's constants.
import CChips

/// BAR 0 register offsets.
enum Reg {
    static let control = ES_REG_CONTROL, status = ES_REG_STATUS
    static let uartControl = ES_REG_UART_CONTROL, uartRes = ES_REG_UART_RES, memPage = ES_REG_MEM_PAGE
    /// ES1370: AK4531 codec write.
    static let codec1370 = ES_REG_1370_CODEC
    /// ES1371: sample rate converter, AC'97 codec, legacy control.
    static let smpRate1371 = ES_REG_1371_SMPRATE, codec1371 = ES_REG_1371_CODEC, legacy1371 = ES_REG_1371_LEGACY
    static let serial = ES_REG_SERIAL, dac2Count = ES_REG_DAC2_COUNT
    /// Page ``memPageDAC``: DAC2 buffer bus address and size (dwords - 1).
    static let dac2Frame = ES_REG_DAC2_FRAME, dac2Size = ES_REG_DAC2_SIZE
    static let memPageDAC = ES_PAGE_DAC
    /// MEM_PAGE's read/write bits.
    static let memPageMask = ES_MEM_PAGE_MASK
}

/// CONTROL bits.
enum Control {
    static let dac2Enable = ES_DAC2_EN
    /// ES1371: warm AC'97 reset.
    static let syncReset1371 = ES_1371_SYNC_RES
    /// ES1370: DAC2 clock divider field (PCLKDIV).
    static func pclkDiv(_ d: UInt32) -> UInt32 { (d << ES_1370_PCLKDIV_SHIFT) & ES_1370_PCLKDIV_MASK }
    static let pclkDivMask = ES_1370_PCLKDIV_MASK
    /// ES1370: codec interface enable; no PCI SERR#.
    static let codecEnable1370 = ES_1370_CDC_EN, serrDisable1370 = ES_1370_SERR_DISABLE
}

/// STATUS bits.
enum Status {
    /// ES1370: codec busy.
    static let codecBusy1370 = ES_1370_CSTAT
}

/// SERIAL bits (DAC2 only; the u-driver drives playback channel 2).
enum Serial {
    static let p2LoopSel = ES_P2_LOOP_SEL, p2Pause = ES_P2_PAUSE, p2IntEnable = ES_P2_INT_EN, p2DacSen = ES_P2_DAC_SEN
    static func p2EndInc(_ v: UInt32) -> UInt32 { (v << ES_P2_END_INC_SHIFT) & ES_P2_END_INC_MASK }
    static let p2EndIncMask = ES_P2_END_INC_MASK
    static func p2StInc(_ v: UInt32) -> UInt32 { (v << ES_P2_ST_INC_SHIFT) & ES_P2_ST_INC_MASK }
    static let p2StIncMask = ES_P2_ST_INC_MASK
    /// DAC2 mode: ``mode16Bit`` | ``modeStereo``.
    static func p2Mode(_ v: UInt32) -> UInt32 { (v << ES_P2_MODE_SHIFT) & ES_P2_MODE_MASK }
    static let p2ModeMask = ES_P2_MODE_MASK
    static let mode16Bit = ES_MODE_16BIT, modeStereo = ES_MODE_STEREO
}

/// ES1371 sample rate converter interface bits and RAM addresses.
enum SRC {
    static func ramAddress(_ a: UInt32) -> UInt32 { (a << ES_1371_SRC_RAM_ADDR_SHIFT) & ES_1371_SRC_RAM_ADDR_MASK }
    static let ramWriteEnable = ES_1371_SRC_RAM_WE
    /// R/O: SRC RAM busy.
    static let ramBusy = ES_1371_SRC_RAM_BUSY
    static let disable = ES_1371_SRC_DISABLE
    static let disableP1 = ES_1371_DIS_P1, disableP2 = ES_1371_DIS_P2, disableR1 = ES_1371_DIS_R1
    /// The state bits a read waits on, and "state 1".
    static let stateMask = ES_1371_SRC_STATE_MASK, stateReadable = ES_1371_SRC_STATE_READ
    static let ramSize = ES_1371_SRC_RAM_SIZE

    // SRC RAM addresses.
    static let dac1 = ES_SMPREG_DAC1, dac2 = ES_SMPREG_DAC2, adc = ES_SMPREG_ADC
    static let volADC = ES_SMPREG_VOL_ADC, volDAC1 = ES_SMPREG_VOL_DAC1, volDAC2 = ES_SMPREG_VOL_DAC2
    static let truncN = ES_SMPREG_TRUNC_N, intRegs = ES_SMPREG_INT_REGS, vfreqFrac = ES_SMPREG_VFREQ_FRAC
    /// INT_REGS' integer part; VFREQ_FRAC's fraction.
    static let intMask = UInt16(ES_SMPREG_INT_MASK), fracMask = UInt16(ES_SMPREG_FRAC_MASK)
}

/// ES1371 AC'97 codec interface bits.
enum Codec1371 {
    /// R/O: codec ready (read data valid).
    static let ready = ES_1371_CODEC_RDY
    /// R/O: codec access in progress.
    static let writeInProgress = ES_1371_CODEC_WIP
    /// Read select.
    static let readSelect = ES_1371_CODEC_PIRD
    static func write(_ reg: UInt32, _ data: UInt16) -> UInt32 {
        (reg << ES_1371_CODEC_ADDR_SHIFT) & ES_1371_CODEC_ADDR_MASK | UInt32(data)
    }
    static func read(_ reg: UInt32) -> UInt32 { (reg << ES_1371_CODEC_ADDR_SHIFT) & ES_1371_CODEC_ADDR_MASK | readSelect }
}

/// AC'97 codec registers the driver uses.
enum AC97 {
    static let reset = ES_AC97_RESET
    /// Master volume: mute, left and right attenuation in 1.5 dB steps.
    static let masterVolume = ES_AC97_MASTER
    /// PCM out volume: mute, left and right gain.
    static let pcmOutVolume = ES_AC97_PCM
    static let powerdownStatus = ES_AC97_POWERDOWN
    static let vendorID1 = ES_AC97_VENDOR_ID1, vendorID2 = ES_AC97_VENDOR_ID2
    static let mute = UInt16(ES_AC97_MUTE)
    static let attenuationMask = UInt16(ES_AC97_ATT_MASK), leftShift = UInt16(ES_AC97_LEFT_SHIFT)
}

/// AK4531 codec registers (ES1370), written through CODEC.
enum AK4531 {
    static let masterLeft = ES_AK4531_LMASTER, masterRight = ES_AK4531_RMASTER
    static let voiceLeft = ES_AK4531_LVOICE, voiceRight = ES_AK4531_RVOICE
    static let reset = ES_AK4531_RESET
    /// Volumes: mute; attenuation in 2 dB steps.
    static let mute = UInt8(ES_AK4531_MUTE), attenuationMask = UInt8(ES_AK4531_ATT_MASK)
    static func write(_ reg: UInt32, _ v: UInt8) -> UInt32 { reg << ES_1370_CODEC_ADDR_SHIFT | UInt32(v) }
}

/// ES1370 DAC2 clock: ES_1370_SRCLOCK / (PCLKDIV + 2) (ES_1370_SRTODIV).
enum Clock1370 {
    static let sourceHz = ES_1370_SRCLOCK
    static func divider(forRate r: UInt32) -> UInt32 { sourceHz / r - 2 }
}
