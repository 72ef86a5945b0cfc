#!/usr/bin/python3
"""A stand-in for the desktop's notification server on the session bus: it owns
org.freedesktop.Notifications (Desktop Notifications Specification 1.2) and writes every
notification it is sent as one JSON line on stdout, so a test sees exactly what the app
asked the desktop to show. Lines on stdin make it act like a person: {"click": id}
emits ActionInvoked(id, "default"), as a server does when a notification is clicked.

It refuses to start (exit 2) when the name is already owned: a test must not take the
notifications of a real desktop session. scripts/test.sh runs the tests on a private bus.
"""

import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


def say(**line):
    print(json.dumps(line), flush=True)


class Notifications(dbus.service.Object):
    def __init__(self, bus_name):
        super().__init__(bus_name, PATH)
        self.last_id = 0

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body", "actions"]

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("switchboard-test", "switchboard", "1.0", "1.2")

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout):
        self.last_id += 1
        say(
            notify={
                "id": self.last_id,
                "appName": str(app_name),
                "summary": str(summary),
                "body": str(body),
                # Pairs of action key and label.
                "actions": [str(a) for a in actions],
                "hints": sorted(str(k) for k in hints.keys()),
            }
        )
        return self.last_id

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, id):
        self.NotificationClosed(id, 3)

    @dbus.service.signal(NAME, signature="us")
    def ActionInvoked(self, id, action_key):
        pass

    @dbus.service.signal(NAME, signature="uu")
    def NotificationClosed(self, id, reason):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    try:
        name = dbus.service.BusName(NAME, bus, do_not_queue=True)
    except dbus.exceptions.NameExistsException:
        say(error=f"{NAME} is already owned on this session bus (a real desktop?); run the test on a private bus, e.g. inside dbus-run-session")
        sys.exit(2)
    server = Notifications(name)
    loop = GLib.MainLoop()

    def on_stdin(channel, condition):
        line = sys.stdin.readline()
        if not line:
            loop.quit()
            return False
        command = json.loads(line)
        if "click" in command:
            server.ActionInvoked(dbus.UInt32(command["click"]), "default")
            say(clicked=command["click"])
        return True

    GLib.io_add_watch(sys.stdin, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, on_stdin)
    say(ready=True, address=bus.get_unique_name())
    loop.run()


if __name__ == "__main__":
    main()
