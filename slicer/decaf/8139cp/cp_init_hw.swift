// SPDX-License-Identifier: GPL-2.0
// 8139cp's cp_init_hw (drivers/net/ethernet/realtek/8139cp.c in
// linux-source-6.1), moved to Swift: Decaf's step, made with
// `driverslicer --halves DIR --decaf cp_init_hw`. The C of the user half
// (cp_open, cp_tx_timeout, cp_resume) calls it through the generated shim;
// it calls the C it called before (cp_reset_hw, cp_start_hw, and
// __cp_set_rx_mode, a downcall into the kernel half) and reaches the
// fields and registers the C reached, through the bindings in
// DIR/decaf/8139cp-decaf.swift. Line for line the C function, with its
// register macros (cpw8, cpw8_f, ...) as the nested functions below.

/// Brings the chip up after a reset: the MAC address, the receive mode,
/// transmit and power-management configuration, as 8139cp's C does.
func cp_init_hw(_ cp: CpPrivateRef?) {
    guard let cp, let dev = cp.dev, let regs = cp.regs else { return }
    func reg(_ r: Int) -> UnsafeMutableRawPointer { regs + r }
    func cpr8(_ r: Int) -> Int { Int(readb(reg(r))) }
    func cpw8(_ r: Int, _ v: Int) { writeb(UInt8(truncatingIfNeeded: v), reg(r)) }
    func cpw16(_ r: Int, _ v: Int) { writew(UInt16(truncatingIfNeeded: v), reg(r)) }
    // The _f variants read the register back: the write has reached the chip.
    func cpw8_f(_ r: Int, _ v: Int) { cpw8(r, v); _ = readb(reg(r)) }
    func cpw32_f(_ r: Int, _ v: UInt32) { writel(v, reg(r)); _ = readl(reg(r)) }

    cp_reset_hw(cp)

    cpw8_f(Cfg9346, Cfg9346_Unlock)

    // Restore our idea of the MAC address (le32_to_cpu of its two words).
    if let mac = dev.devAddr {
        cpw32_f(MAC0 + 0, UInt32(littleEndian: mac.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        cpw32_f(MAC0 + 4, UInt32(littleEndian: mac.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    }

    cp_start_hw(cp)
    cpw8(TxThresh, 0x06) // as the C: "XXX convert magic num to a constant"

    __cp_set_rx_mode(dev)
    cpw32_f(TxConfig, UInt32(IFG | (TX_DMA_BURST << TxDMAShift)))

    cpw8(Config1, cpr8(Config1) | DriverLoaded | PMEnable)
    // Disable Wake-on-LAN. Can be turned on with ETHTOOL_SWOL.
    cpw8(Config3, PARMEnable)
    cp.wolEnabled = 0

    cpw8(Config5, cpr8(Config5) & PMEStatus)

    cpw16(MultiIntr, 0)

    cpw8_f(Cfg9346, Cfg9346_Lock)
}
