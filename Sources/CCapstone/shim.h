/* SPDX-License-Identifier: GPL-2.0 */
/* Capstone (Debian's libcapstone-dev, 4.x) for CFaultInject's instruction
 * decoding.  pkg-config `capstone` adds -I/usr/include/capstone. */
#include <capstone/capstone.h>
