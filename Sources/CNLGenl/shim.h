/* SPDX-License-Identifier: GPL-2.0 */
/* libnl-genl-3 as drivermgrd's kernel backend uses it. */
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>

static const int drv_nl_auto_port = NL_AUTO_PORT;
static const int drv_nl_auto_seq = NL_AUTO_SEQ;
static const int drv_nlmsg_error = NLMSG_ERROR;
static const int drv_nlmsg_done = NLMSG_DONE;
static const int drv_nlmsg_hdrlen = NLMSG_HDRLEN;
static const int drv_genl_hdrlen = GENL_HDRLEN;
