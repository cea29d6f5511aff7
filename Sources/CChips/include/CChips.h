/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The register maps the nucleus, the u-drivers and the simulator share,
 * imported into Swift as they are (module/include/chips/).  One line per
 * chip.
 */
#ifndef CCHIPS_H
#define CCHIPS_H

#include "../../../module/include/chips/es137x_regs.h"
#include "../../../module/include/chips/rtl8139_regs.h"
#include "../../../module/include/chips/ne2k_regs.h"
#include "../../../module/include/chips/pcnet32_regs.h"
#include "../../../module/include/chips/e1000_regs.h"
#include "../../../module/include/chips/ps2mouse_regs.h"
#include "../../../module/include/chips/uhci_regs.h"

#endif /* CCHIPS_H */
