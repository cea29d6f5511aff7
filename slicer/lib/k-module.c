// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: the driver's struct module.
 *
 * Provides __this_module, which THIS_MODULE names (module_param's owner,
 * a pci_driver's, a file_operations'), as modpost's NAME.mod.c defines it
 * for a kernel module: named KBUILD_MODNAME, with the driver's
 * init_module and cleanup_module (the aliases module_init() and
 * module_exit() define) when the user half has them.
 *
 * The name is the KBUILD_MODNAME this file is compiled with; the check
 * script (Tests/slicer/check-driverlib.sh) compiles the library with the
 * driver's own Kbuild flags, so it is the driver's module name.  The
 * definition is weak: a u-driver that generates its own (as modpost
 * would) replaces it.  Departure: it is not placed in
 * .gnu.linkonce.this_module, whose "keep one copy" rule would let the
 * linker drop the u-driver's own definition.
 */
#include <linux/init.h>
#include <linux/module.h>

extern int init_module(void) __weak;
extern void cleanup_module(void) __weak;

__weak struct module __this_module = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
};
