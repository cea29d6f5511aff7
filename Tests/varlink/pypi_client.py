# SPDX-License-Identifier: GPL-2.0
# An independent Varlink client against drivermgrd: PyPI's `varlink` package
# (make test-python installs it into .build/test-venv). It asks for the
# interface description first and parses it with its own scanner, then calls
# the methods by their declared signatures. Run by
# Tests/IntegrationTests/VarlinkTests.swift with the socket's path; exits
# non-zero at the first claim that does not hold.
import sys
import threading

import varlink

address = "unix:" + sys.argv[1]
sound, net = sys.argv[2], sys.argv[3]


def check(ok, what):
    if not ok:
        print("FAILED:", what)
        sys.exit(1)
    print("ok:", what)


client = varlink.Client(address=address)

with client.open("org.varlink.service") as service:
    info = service.GetInfo()
    check("io.drivermgr.Manager" in info["interfaces"], "GetInfo lists io.drivermgr.Manager")
    check(info["product"] == "drivermgrd" and info["version"], "GetInfo names the product and version")
    try:
        service.GetInterfaceDescription(interface="org.example.nothing")
        check(False, "an unknown interface is an error")
    except varlink.VarlinkError as e:
        check(e.error() == "org.varlink.service.InterfaceNotFound"
              and e.parameters()["interface"] == "org.example.nothing", "InterfaceNotFound names it")

# open() fetches the description and parses it: the definition is valid
# Varlink to a parser that is not ours.
with client.open("io.drivermgr.Manager") as m:
    drivers = m.List()["drivers"]
    names = sorted(d["name"] for d in drivers)
    check(sound in names and net in names, "List: " + ", ".join(names))
    check(all(isinstance(d["restarts"], int) for d in drivers), "restarts are integers")
    st = m.Status(names=[net])["drivers"][0]
    check(st["summary"]["name"] == net and isinstance(st["xpcTimeoutUSec"], int), "Status of " + net)
    check(isinstance(st["device"]["values"], dict) and "mac" in st["device"]["values"], "the class's values in one object")
    ops = m.Call(name=sound, operation="help", arguments=[])["result"]
    check("mixer-set" in ops, "Call help lists the class's operations")
    v = m.Verify(name=net)
    check(v["compared"] > 0 and v["divergences"] == [],
          "Verify compares and finds the device as the shadow says: %r" % (v,))
    try:
        m.Start(name="nosuch")
        check(False, "Start of an unknown driver fails")
    except varlink.VarlinkError as e:
        check(e.error() == "io.drivermgr.Manager.DriverNotFound" and e.parameters()["name"] == "nosuch",
              "DriverNotFound names the driver")
    try:
        m.Inject(name=net, kind="meteor")
        check(False, "an unknown fault kind is refused")
    except varlink.VarlinkError as e:
        check(e.error() == "io.drivermgr.Manager.InvalidValue" and e.parameters()["parameter"] == "kind",
              "InvalidValue names kind: " + e.parameters()["message"])

    # oneway: no reply; the next call's reply is the next message.
    before = [d["restarts"] for d in m.List()["drivers"] if d["name"] == net][0]
    check(m.Restart(name=net, _oneway=True) is None, "a oneway Restart returns at once")
    after = m.List()["drivers"]
    check(any(d["name"] == net for d in after), "the call after a oneway one gets its own reply")

# Monitor streams on a connection of its own; a restart from another
# connection shows up as events.
seen = []


def watch():
    with client.open("io.drivermgr.Manager") as mon:
        for reply in mon.Monitor(_more=True):
            e = reply["event"]
            seen.append((e["driver"], e["event"]))
            if e["driver"] == sound and e["event"] == "recovered":
                return


t = threading.Thread(target=watch, daemon=True)
t.start()
import time

time.sleep(0.5)
with client.open("io.drivermgr.Manager") as m:
    m.Restart(name=sound)
t.join(30)
check(not t.is_alive(), "Monitor streamed the restart: " + str(seen))
with client.open("io.drivermgr.Manager") as m:
    history = m.History(name=sound)["events"]
    kinds = [e.get("failureKind") for e in history if e["event"] == "recovered"]
    check("restart" in kinds, "History records the recovery from the restart: " + str(kinds))
    check(all(isinstance(e["timeUSec"], int) and e["timeUSec"] > 1_600_000_000_000_000 for e in history),
          "event times are exact integers")
print("all claims hold")
