#!/usr/bin/python3
# Manager.Compare with one disk a side passed as a file descriptor: fds 3
# (side A) and 4 (side B) of this process. busctl cannot send fds.
# Prints "ok JOB-PATH", or "ERROR-NAME: MESSAGE" for an error reply.
# Usage: fd-compare.py system|session
import sys

import dbus

bus = dbus.SystemBus() if sys.argv[1] == "system" else dbus.SessionBus()
manager = dbus.Interface(bus.get_object("org.virtdiff.VirtDiff1", "/org/virtdiff/VirtDiff1"),
                         "org.virtdiff.VirtDiff1.Manager")
try:
    job = manager.Compare([{"fd": dbus.types.UnixFd(3)}], [{"fd": dbus.types.UnixFd(4)}],
                          dbus.Dictionary({}, signature="sv"))
    print("ok", job)
except dbus.exceptions.DBusException as e:
    print("%s: %s" % (e.get_dbus_name(), e.get_dbus_message()))
