/* SPDX-License-Identifier: GPL-2.0 */
/* libsystemd for drivermgrd: sd_notify, the watchdog, the journal. */
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
