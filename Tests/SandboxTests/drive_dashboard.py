"""Drives `switchback sandbox`'s dashboard in a pseudo-terminal, as a person would.

Usage: drive_dashboard.py EXECUTABLE DIRECTORY
Waits for the dashboard to show dc-a active, presses `a` (fail dc-a), waits for the fault and
for dc-b to become active on the screen, presses `q`, and prints `exit STATUS`. Any screen that
does not come within its deadline prints `missing: WHAT` with the last screen and exits 1.
"""
import os
import pty
import select
import sys
import time

executable, directory = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(executable, [executable, "sandbox", "--dir", directory, "--rate", "100"])

screen = b""


def wait_for(marker, seconds):
    global screen
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
            if marker.encode() in screen:
                return
    tail = screen[-3000:].decode("utf-8", "replace")
    print("missing: " + marker + "\n--- last screen ---\n" + tail)
    os.kill(pid, 9)
    sys.exit(1)


wait_for("active site   dc-a", 150)
wait_for("keys: a fail dc-a", 10)
screen = b""
os.write(fd, b"a")
wait_for("dc-a cluster blackholed", 20)
wait_for("active site   dc-b", 90)
screen = b""
os.write(fd, b"q")
deadline = time.time() + 90
while time.time() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("exit %d" % os.waitstatus_to_exitcode(status))
        sys.exit(0)
    try:
        if select.select([fd], [], [], 0.2)[0]:
            screen += os.read(fd, 65536)
    except OSError:
        time.sleep(0.2)
print("missing: exit after q\n--- last screen ---\n" + screen[-3000:].decode("utf-8", "replace"))
os.kill(pid, 9)
sys.exit(1)
