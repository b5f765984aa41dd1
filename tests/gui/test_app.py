#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The vessel app as a user sees it, under Xvfb (tests/gui/harness.py).

Each scenario is one meson test (suite 'gui'), run with --scenario NAME:

  empty       a fresh user (offer-demo=false) sees "No Machines" and a
              "New Machine" button.                         01-empty.png
  dialog      app.new-machine opens "New Machine" with the profile
              defaults; Create with an empty name and a missing kernel
              shows inline errors (exposed over AT-SPI) and keeps the
              dialog open with what was typed; fixed, Create writes
              machines/test-machine/machine.ini with the typed values and
              the list shows the machine.  02-dialog.png, 02-dialog-error.png,
              03-created.png
  run         Start (its button) -> "Running" and a vessel-vmm process;
              Pause -> "Paused"; Resume -> "Running"; Screenshot -> a PNG
              in the pictures folder; Stop -> "Stopping… N s" counting down
              (the test guest ignores the power button), then "Force Off"; Force Off ->
              "Stopped" and the VMM gone.  04-running.png,
              04-running-desktop.png (with the guest's window), 05-paused.png,
              06-stopping.png, 07-force-off.png
  errors      a kernel that is not one, and a VMM that fails on its own,
              each end in state "Error" with the VMM's message in the row;
              a garbage machine.ini is listed as unreadable with its error
              and is byte for byte the same after the app ran and quit.
              08-unreadable.png, 08-error-kernel.png, 08-error.png
  demo        a first start with a (fake) preparation script shows its
              progress, then a "Demo" machine.            09-demo-progress.png,
              10-demo-created.png
  demo-fail   a failing script shows its message and "Try Again"; trying
              again (the script now succeeds) creates the machine.
              11-demo-failed.png
  delete      app.delete-machine asks; Cancel keeps the machine, Delete
              removes the row and the machine's folder.    12-delete-dialog.png
  host        no /dev/kvm: the notice and why; LANGUAGE=vi: the window in
              Vietnamese.                      13-no-kvm.png, 14-vietnamese.png
  demo-real   the real demo script makes "Demo"; Start -> the greeting and
              a shell on the guest's screen; Stop -> the guest switches
              itself off -> "Stopped".  15-demo-running.png, 16-demo-stopped.png

Exit status: 0 when every step saw what it expected, 1 otherwise.
"""

import argparse
import configparser
import glob
import os
import re
import stat
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (GuiSession, StepFailure, acc_name, children,  # noqa: E402
                     find_all, is_showing, log, press, role_name, text_of, walk)

STATE_TIMEOUT_S = 30        # a start on a loaded machine, the nested KVM
STOP_TIMEOUT_SETTING = 5    # stop-timeout-seconds (the schema's minimum)
STATES = ("Stopped", "Starting", "Running", "Paused", "Stopping", "Not responding",
          "Error", "Unreadable")


# --- helpers -------------------------------------------------------------

def button_matches(acc, label):
    """GTK 4.8 names a button with a mnemonic label "_Cancel Cancel" (the
    label property and the child label): accept the label as shown."""
    if role_name(acc) not in ("push button", "toggle button"):
        return False
    name = acc_name(acc)
    if name == label or name.endswith(" " + label):
        return True
    return any(role_name(c) == "label" and text_of(c) == label for c in children(acc))


def find_button(session, root, label, timeout=10):
    def probe():
        r = root() if callable(root) else root
        if r is None:
            return None
        for acc, _ in walk(r):
            if button_matches(acc, label) and is_showing(acc):
                return acc
        return None
    return session.wait_for(probe, timeout, f"a button {label!r}")


def machine_row(session, title):
    """(row, header) of a machine: the expander row (the list item that
    holds the details) and its header (the list item named by the title)."""
    window = session.main_window()
    if window is None:
        return None, None
    for acc in find_all(window, "list item", title):
        outer = acc
        for _ in range(4):
            parent = outer.get_parent()
            if parent is None:
                break
            outer = parent
            if role_name(outer) == "list item":
                return outer, acc
        return acc, acc
    return None, None


def row_buttons(header):
    return [acc for acc, _ in walk(header) if role_name(acc) == "push button" and is_showing(acc)]


def state_label(header):
    """The state label: the label next to the row's buttons."""
    for acc, _ in walk(header):
        if role_name(acc) == "label" and is_showing(acc):
            text = text_of(acc)
            if text.startswith(STATES):
                return acc
    return None


def state_text(session, title):
    _, header = machine_row(session, title)
    if header is None:
        return None
    label = state_label(header)
    return text_of(label) if label is not None else None


def wait_state(session, title, want, timeout=STATE_TIMEOUT_S):
    """Waits until the machine's state label reads want (a string or a regex)."""
    def probe():
        text = state_text(session, title)
        ok = (want.search(text) if isinstance(want, re.Pattern) else text == want) \
            if text is not None else False
        return text if ok else (None, text)
    what = want.pattern if isinstance(want, re.Pattern) else want
    return session.wait_for(probe, timeout, f"the state of {title!r} to read {what!r}")


def row_button(session, title, label, timeout=10):
    def probe():
        _, header = machine_row(session, title)
        if header is None:
            return None
        for acc in row_buttons(header):
            if button_matches(acc, label):
                return acc
        return (None, [acc_name(b) for b in row_buttons(header)])
    return session.wait_for(probe, timeout, f"the button {label!r} in the row of {title!r}")


def row_texts(session, title):
    """Every showing label's text in a machine's expander row."""
    row, _ = machine_row(session, title)
    if row is None:
        return []
    return [text_of(a) for a, _ in walk(row) if role_name(a) == "label" and is_showing(a)]


def write_profile(session, machine_id, name, kernel, memory=64, window=True, extra=""):
    folder = os.path.join(session.machines_dir, machine_id)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, "machine.ini")
    with open(path, "w") as f:
        f.write(f"[machine]\nversion=1\nname={name}\nmemory-mib={memory}\ncpus=1\n"
                f"[boot]\ntype=linux\nkernel={kernel}\n"
                f"[display]\nwindow={'true' if window else 'false'}\nspice=false\n{extra}")
    return path


def read_ini(path):
    parser = configparser.ConfigParser(interpolation=None)
    with open(path) as f:
        parser.read_file(f)
    return parser


def vmm_windows(session, pid):
    import subprocess
    r = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
                       env=session.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True, timeout=10)
    return r.stdout.split()


def move_vmm_window_aside(session, pid, x):
    """The guest's SDL window maps over the app (there is no window
    manager): put it to the right of the app's window."""
    try:
        windows = session.wait_for(lambda: vmm_windows(session, pid), 20,
                                   "the machine's window on the X display")
    except StepFailure:
        return False
    for w in windows:
        session.xdotool("windowmove", "--sync", w, str(x), "0")
    return True


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise StepFailure(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def pid_alive(pid):
    return harness.process_state(pid) not in (None, "Z")


# --- scenarios -----------------------------------------------------------

def scenario_empty(s):
    with s.step("a fresh user: the app shows its window"):
        s.start_app()
    with s.step("the empty list says 'No Machines' and offers 'New Machine'"):
        s.find("label", "No Machines", what="the 'No Machines' status page")
        find_button(s, s.main_window, "New Machine")
        # The status page's own button (not only the header bar's "+").
        big = [b for b, _ in walk(s.main_window())
               if button_matches(b, "New Machine") and is_showing(b)]
        if len(big) < 2:
            raise StepFailure(f"only {len(big)} 'New Machine' button(s) on screen: the empty "
                              "page's button is missing")
        if s.find_all_list_items():
            raise StepFailure("the machine list shows rows for a user without machines")
        s.screenshot("01-empty.png", "Vessel")
    with s.step("without a GPU the app draws with cairo: no Mesa driver in its memory"):
        # On a host without a DRM render node GTK's GL renderer would run on
        # llvmpipe (+125 MiB); app/vessel.c turns it off (docs/benchmarks.md).
        if not glob.glob("/dev/dri/renderD*"):
            with open(f"/proc/{s.app.pid}/maps") as f:
                maps = f.read()
            loaded = sorted({lib for lib in ("swrast_dri", "libgallium", "libLLVM", "libEGL_mesa",
                                             "libGLX_mesa") if lib in maps})
            if loaded:
                raise StepFailure(f"the app loaded Mesa on a host without a GPU: {loaded}")
    with s.step("no demo is prepared when offer-demo is false"):
        time.sleep(1)
        bar = [a for a, _ in walk(s.main_window())
               if role_name(a) == "progress bar" and is_showing(a)]
        if bar:
            raise StepFailure("the demo preparation bar shows although offer-demo=false")
    with s.step("app.quit ends the app"):
        s.quit_app()


def scenario_dialog(s, opts):
    kernel = opts.guest
    with s.step("start the app"):
        s.start_app()
    with s.step("app.new-machine opens the 'New Machine' dialog with the defaults"):
        s.action("new-machine")
        dialog = s.wait_for(lambda: s.window_named("New Machine"), 10, "the 'New Machine' window")
        s.wait_xwindows(2)
        memory = s.find("spin button", re.compile(r"^Memory \(MiB\)"), root=dialog)
        cpus = s.find("spin button", re.compile(r"^Processors"), root=dialog)
        switches = [a for a, _ in walk(dialog)
                    if acc_name(a).startswith("Window on this desktop")
                    and role_name(a) in ("check box", "toggle button", "switch")]
        if not switches:
            raise StepFailure("no 'Window on this desktop' switch in the dialog")
        window_switch = switches[0]
        got_memory = memory.get_current_value()
        got_cpus = cpus.get_current_value()
        checked = window_switch.get_state_set().contains(harness.Atspi.StateType.CHECKED)
        # profile_new(): 1 GiB, 1 CPU, a window on this desktop.
        if (got_memory, got_cpus, checked) != (1024, 1, True):
            raise StepFailure(f"the new machine's defaults show as memory {got_memory} MiB, "
                              f"{got_cpus} CPU(s), window {'on' if checked else 'off'}; "
                              "want 1024 MiB, 1 CPU, window on")
        s.screenshot("02-dialog.png", "New Machine")
    with s.step("Create with an empty name and a missing kernel shows inline errors"):
        missing = os.path.join(s.home, "no-such-vmlinuz")
        kernel_entry = s.find("text", "Linux kernel", root=dialog)
        labels_before = dialog_labels(dialog)
        s.type_into(kernel_entry, "New Machine", missing, "the kernel")
        if text_of(kernel_entry) != missing:
            raise StepFailure(f"the kernel field reads {text_of(kernel_entry)!r} after typing")
        press(find_button(s, dialog, "Create"), "Create")
        time.sleep(1)
        dialog = s.window_named("New Machine")
        if dialog is None:
            raise StepFailure("the dialog closed although the name is empty and the kernel "
                              "is missing")
        # The inline messages are hidden labels until Create: new labels.
        errors = s.wait_for(lambda: [t for t in dialog_labels(dialog) if t not in labels_before],
                            10, "inline error messages")
        log(f"  inline errors: {errors}")
        name_errors = [e for e in errors if re.search(r"name", e, re.I)]
        kernel_errors = [e for e in errors if missing in e or re.search(r"kernel", e, re.I)]
        if not name_errors:
            raise StepFailure(f"no inline message about the empty name; messages: {errors}")
        if not kernel_errors:
            raise StepFailure(f"no inline message about the missing kernel; messages: {errors}")
        if text_of(s.find("text", "Linux kernel", root=dialog)) != missing:
            raise StepFailure("the typed kernel path is gone after Create")
        s.screenshot("02-dialog-error.png", "New Machine")
    with s.step("fix the fields and Create: the profile is written"):
        s.type_into(s.find("text", "Name", root=dialog), "New Machine", "Test Machine", "the name")
        s.type_into(s.find("text", "Linux kernel", root=dialog), "New Machine", kernel,
                    "the kernel")
        s.type_into(s.find("text", "Kernel command line (optional)", root=dialog), "New Machine",
                    "console=ttyS0 quiet", "the command line")
        memory = s.find("spin button", re.compile(r"^Memory \(MiB\)"), root=dialog)
        s.type_into(memory, "New Machine", "64", "the memory")
        s.xdotool("key", "Tab")     # the spin button takes typed text when it loses focus
        time.sleep(0.5)
        got = memory.get_current_value()
        if got != 64:
            raise StepFailure(f"the memory spin button holds {got} after typing 64")
        press(find_button(s, dialog, "Create"), "Create")
        s.wait_for(lambda: s.window_named("New Machine") is None, 10,
                   "the dialog to close after Create")
        path = os.path.join(s.machines_dir, "test-machine", "machine.ini")
        s.wait_for(lambda: os.path.exists(path), 5, path)
        ini = read_ini(path)
        want = {("machine", "name"): "Test Machine", ("boot", "kernel"): kernel,
                ("machine", "memory-mib"): "64", ("boot", "cmdline"): "console=ttyS0 quiet",
                ("machine", "cpus"): "1", ("display", "window"): "true"}
        wrong = {k: ini.get(*k, fallback=None) for k, v in want.items()
                 if ini.get(*k, fallback=None) != v}
        if wrong:
            raise StepFailure(f"{path} holds {wrong}, want {want}")
        mode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
        if mode & 0o077:
            raise StepFailure(f"the machine's folder is open to others: mode {mode:o}")
    with s.step("the list shows the new machine, stopped"):
        wait_state(s, "Test Machine", "Stopped", 10)
        texts = row_texts(s, "Test Machine")
        if not any("64" in t and "MiB" in t for t in texts):
            raise StepFailure(f"the row does not show 64 MiB: {texts}")
        s.screenshot("03-created.png", "Vessel")
    with s.step("Edit: renaming keeps the folder, keys the app does not know, and the list order"):
        path = os.path.join(s.machines_dir, "test-machine", "machine.ini")
        with open(path, "a") as f:
            f.write("\n[future]\nsetting=kept\n")
        s.action("edit-machine", "test-machine")
        dialog = s.wait_for(lambda: s.window_named("Edit Machine"), 10, "the 'Edit Machine' window")
        name = s.find("text", "Name", root=dialog)
        if text_of(name) != "Test Machine":
            raise StepFailure(f"the Edit dialog shows the name {text_of(name)!r}")
        s.type_into(name, "Edit Machine", "A Renamed Machine", "the name")
        press(find_button(s, dialog, "Save"), "Save")
        s.wait_for(lambda: s.window_named("Edit Machine") is None, 10, "the dialog to close after Save")
        wait_state(s, "A Renamed Machine", "Stopped", 10)
        if machine_row(s, "Test Machine")[1] is not None:
            raise StepFailure("the old name is still listed")
        ini = read_ini(path)
        got = (ini.get("machine", "name", fallback=None), ini.get("future", "setting", fallback=None),
               ini.get("machine", "memory-mib", fallback=None))
        if got != ("A Renamed Machine", "kept", "64"):
            raise StepFailure(f"{path} after Save holds name/future.setting/memory {got}")
    with s.step("app.quit ends the app"):
        s.quit_app()


def dialog_labels(dialog):
    return [text_of(a) for a, _ in walk(dialog)
            if role_name(a) == "label" and is_showing(a) and text_of(a)]


def scenario_run(s, opts):
    title = "Test Machine"
    write_profile(s, "test-machine", title, opts.guest, memory=64)
    with s.step("start the app with one machine"):
        s.start_app()
        wait_state(s, title, "Stopped", 10)
    with s.step("Start (the row's button, over AT-SPI) -> Running"):
        press(row_button(s, title, "Start"), "Start")
        wait_state(s, title, "Running")
        pids = s.wait_for(s.vmm_pids, 10, "a vessel-vmm process")
        if len(pids) != 1:
            raise StepFailure(f"{len(pids)} vessel-vmm processes run, want 1: {pids}")
        vmm = pids[0]
        cmd = harness.process_cmdline(vmm)
        log(f"  vessel-vmm {vmm}: {' '.join(cmd)}")
        if "--profile" not in cmd or os.path.join(s.machines_dir, "test-machine",
                                                  "machine.ini") not in cmd:
            raise StepFailure(f"vessel-vmm does not run the machine's profile: {cmd}")
        buttons = [acc_name(b) for b in row_buttons(machine_row(s, title)[1])]
        for want in ("Pause", "Stop", "Screenshot", "Reset"):
            if not any(button_matches(b, want) for b in row_buttons(machine_row(s, title)[1])):
                raise StepFailure(f"a running machine's row has no {want!r} button: {buttons}")
        if any(button_matches(b, "Start") for b in row_buttons(machine_row(s, title)[1])):
            raise StepFailure(f"a running machine's row still offers Start: {buttons}")
        moved = move_vmm_window_aside(s, vmm, 905)
        time.sleep(1.0 if moved else 0)
        s.screenshot("04-running.png", "Vessel")
        s.screenshot("04-running-desktop.png")      # with the guest's window
    with s.step("Pause (button) -> Paused"):
        press(row_button(s, title, "Pause"), "Pause")
        wait_state(s, title, "Paused", 15)
        row_button(s, title, "Resume")
        s.screenshot("05-paused.png", "Vessel")
    with s.step("Resume (app.resume-machine over D-Bus) -> Running"):
        s.action("resume-machine", "test-machine")
        wait_state(s, title, "Running", 15)
    with s.step("Screenshot -> a PNG of the guest's display in the pictures folder"):
        press(row_button(s, title, "Screenshot"), "Screenshot")
        folder = os.path.join(s.pictures, "Vessel")
        shots = s.wait_for(lambda: [p for p in glob.glob(os.path.join(folder, "*.png"))
                                    if os.path.getsize(p) > 0], 20,
                           f"a PNG file in {folder}")
        time.sleep(0.5)     # written in one go, but let it finish
        width, height = png_size(shots[0])
        log(f"  {shots[0]}: {width}x{height}")
        if not os.path.basename(shots[0]).startswith(title):
            raise StepFailure(f"the screenshot's name does not start with the machine's: "
                              f"{shots[0]}")
        if (width, height) != (1920, 1080):
            raise StepFailure(f"the screenshot is {width}x{height}; the guest set 1920x1080")
    with s.step("Stop -> 'Stopping… N s' counting down (the guest ignores the power button)"):
        # The state label stays the same object: found now, it is then read
        # with one D-Bus call a sample (a walk of the tree takes a second).
        label = state_label(machine_row(s, title)[1])
        stop = row_button(s, title, "Stop")
        press(stop, "Stop")
        pressed = time.monotonic()
        seen = []
        shot = False
        deadline = time.monotonic() + STOP_TIMEOUT_SETTING + 10
        text = None
        while time.monotonic() < deadline:
            text = text_of(label)
            m = re.match(r"^Stopping… (\d+) s$", text)
            if m:
                if not seen or int(m.group(1)) != seen[-1]:
                    seen.append(int(m.group(1)))
                if not shot:
                    s.screenshot("06-stopping.png", "Vessel")
                    shot = True
            elif seen or text not in ("Running", ""):
                break
            time.sleep(0.1)
        took = time.monotonic() - pressed
        log(f"  countdown seen: {seen}, then {text!r} after {took:.1f} s")
        if not seen:
            raise StepFailure(f"the state never read 'Stopping… N s' (it read {text!r})")
        if took < STOP_TIMEOUT_SETTING - 1.5:
            raise StepFailure(f"the wait ended after {took:.1f} s, before the "
                              f"{STOP_TIMEOUT_SETTING} s of stop-timeout-seconds")
        if seen[0] > STOP_TIMEOUT_SETTING:
            raise StepFailure(f"the countdown starts at {seen[0]} s although "
                              f"stop-timeout-seconds={STOP_TIMEOUT_SETTING}")
        # Sampled every 0.1 s, but the screenshot of the first value may take
        # seconds on a loaded machine: two decreasing values are enough.
        if len(seen) < 2 or seen != sorted(seen, reverse=True):
            raise StepFailure(f"the countdown did not count down: {seen}")
        if not pid_alive(vmm):
            raise StepFailure("the VMM ended during the countdown: the guest has no ACPI "
                              "handling, so only Force Off may end it")
    with s.step("after the timeout: 'Not responding' and a 'Force Off' button"):
        wait_state(s, title, "Not responding", 10)
        force = row_button(s, title, "Force Off")
        s.screenshot("07-force-off.png", "Vessel")
    with s.step("Force Off -> Stopped, the VMM process is gone"):
        press(force, "Force Off")
        wait_state(s, title, "Stopped", 15)
        s.wait_for(lambda: not pid_alive(vmm), 10, f"vessel-vmm {vmm} to end")
        row_button(s, title, "Start")
    with s.step("app.quit ends the app"):
        s.quit_app()


def scenario_errors(s, opts):
    not_a_kernel = os.path.join(s.home, "notes.txt")
    with open(not_a_kernel, "w") as f:
        f.write("This is not a kernel.\n" * 20)
    write_profile(s, "bad-kernel", "Bad Kernel", not_a_kernel)
    write_profile(s, "failing-vmm", "Failing VMM", opts.guest)
    broken = os.path.join(s.machines_dir, "garbage", "machine.ini")
    os.makedirs(os.path.dirname(broken), mode=0o700)
    garbage = b"\x00\x01 this is [not an ini\nname=\xff\xfe\n[machine\nversion=banana\n"
    with open(broken, "wb") as f:
        f.write(garbage)
    before = os.stat(broken)
    with s.step("start the app with three machines"):
        s.start_app()
        wait_state(s, "Bad Kernel", "Stopped", 10)
    with s.step("the garbage machine.ini is listed as unreadable, its error shown without a click"):
        text = wait_state(s, "garbage", "Unreadable", 10)
        texts = s.wait_for(lambda: (lambda t: t if any(broken in x for x in t) else (None, t))(
            row_texts(s, "garbage")), 10, "the details of the unreadable machine")
        log(f"  row: {text}; {texts}")
        if not any(broken in t for t in texts) or len(" ".join(texts)) < 40:
            raise StepFailure(f"the unreadable machine's row does not say which file and why: "
                              f"{texts}")
        if any(button_matches(b, "Start") for b in row_buttons(machine_row(s, "garbage")[1])):
            raise StepFailure("an unreadable machine offers Start")
        s.screenshot("08-unreadable.png", "Vessel")
    with s.step("a kernel file that is not a kernel -> Error with the VMM's message"):
        s.action("start-machine", "bad-kernel")
        wait_state(s, "Bad Kernel", "Error")
        texts = s.wait_for(lambda: [t for t in row_texts(s, "Bad Kernel") if len(t) > 20] or
                           (None, row_texts(s, "Bad Kernel")), 10, "the error message")
        log(f"  row texts: {texts}")
        log_path = os.path.join(s.machines_dir, "bad-kernel", "vessel-vmm.log")
        vmm_said = open(log_path, errors="replace").read() if os.path.exists(log_path) else ""
        said = [line.strip() for line in vmm_said.splitlines() if "vessel-vmm" in line]
        if not said:
            raise StepFailure(f"the VMM's log {log_path} has no vessel-vmm line: {vmm_said!r}")
        if not any(said[-1] in t or t in said[-1] for t in texts):
            raise StepFailure(f"the row does not show the VMM's message {said[-1]!r}: {texts}")
        row_button(s, "Bad Kernel", "Start")      # it can be started again
        s.screenshot("08-error-kernel.png", "Vessel")
    with s.step("app.quit ends the app"):
        s.quit_app()
    with s.step("the unreadable machine.ini is untouched"):
        with open(broken, "rb") as f:
            after = f.read()
        if after != garbage:
            raise StepFailure(f"{broken} changed: {after!r}")
        st = os.stat(broken)
        if (st.st_mtime_ns, st.st_ino) != (before.st_mtime_ns, before.st_ino):
            raise StepFailure(f"{broken} was rewritten (same bytes, new file or time)")
        leftovers = sorted(os.listdir(os.path.dirname(broken)))
        if leftovers != ["machine.ini"]:
            raise StepFailure(f"the app left files beside it: {leftovers}")

    # A VMM that fails on its own, with its own message.
    fake = os.path.join(s.home, "fake-vmm")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho 'vessel-vmm: something failed' >&2\nexit 1\n")
    os.chmod(fake, 0o755)
    with s.step("with VESSEL_VMM failing at once: start -> Error with its message"):
        s.start_app(extra_env={"VESSEL_VMM": fake})
        s.action("start-machine", "failing-vmm")
        wait_state(s, "Failing VMM", "Error")
        texts = s.wait_for(lambda: [t for t in row_texts(s, "Failing VMM")
                                    if "something failed" in t] or
                           (None, row_texts(s, "Failing VMM")), 10,
                           "the VMM's message 'something failed' in the row")
        log(f"  row texts: {texts}")
        s.screenshot("08-error.png", "Vessel")
    with s.step("app.quit ends the app"):
        s.quit_app()


DEMO_SCRIPT = """#!/bin/sh
# A fake vessel-prepare-demo (the protocol of docs/demo.md).
count_file="$HOME/demo-runs"
runs=$(cat "$count_file" 2>/dev/null || echo 0)
runs=$((runs + 1))
echo "$runs" > "$count_file"
if [ "$runs" -le {failures} ]; then
    echo "progress 0.1 Downloading the kernel…"
    sleep 0.5
    echo "error No network: the kernel could not be downloaded."
    exit 1
fi
echo "progress 0.05 Looking for a kernel…"
sleep {pause}
echo "progress 0.4 Building the initial RAM disk…"
sleep {pause}
echo "progress 0.8 Almost there…"
sleep {pause}
echo "kernel {kernel}"
echo "initrd {initrd}"
echo "cmdline console=ttyS0 demo=1"
echo "done"
"""


def write_demo_script(s, opts, failures, pause):
    initrd = os.path.join(s.home, "demo-initrd.img")
    with open(initrd, "wb") as f:
        f.write(b"070701" + b"0" * 506)
    path = os.path.join(s.home, "prepare-demo")
    with open(path, "w") as f:
        f.write(DEMO_SCRIPT.format(failures=failures, pause=pause, kernel=opts.guest,
                                   initrd=initrd))
    os.chmod(path, 0o755)
    return path, initrd


def demo_label(s):
    """The text above the demo progress bar, if it shows."""
    window = s.main_window()
    if window is None:
        return None
    for acc, _ in walk(window):
        if role_name(acc) == "progress bar" and is_showing(acc):
            box = acc.get_parent()
            for a, _ in walk(box):
                if role_name(a) == "label" and is_showing(a) and text_of(a):
                    return acc, text_of(a)
            return acc, ""
    return None


def keyfile_settings(s):
    path = os.path.join(s.config_home, "glib-2.0", "settings", "keyfile")
    with open(path) as f:
        return f.read()


def scenario_demo(s, opts):
    script, initrd = write_demo_script(s, opts, failures=0, pause=1.5)
    with s.step("first start: the demo is prepared, with its progress shown"):
        s.start_app(extra_env={"VESSEL_PREPARE_DEMO": script})
        bar, text = s.wait_for(lambda: (lambda r: r if r and "Building" in r[1] else None)(
            demo_label(s)), 15, "the progress message 'Building the initial RAM disk…'")
        value = bar.get_current_value()
        log(f"  progress: {value} {text!r}")
        if not 0.3 <= value <= 0.5:
            raise StepFailure(f"the progress bar shows {value}, the script said 0.4")
        s.screenshot("09-demo-progress.png", "Vessel")
    with s.step("then a 'Demo' machine appears and the bar goes away"):
        wait_state(s, "Demo", "Stopped", 20)
        s.wait_for(lambda: demo_label(s) is None, 10, "the progress bar to go away")
        path = os.path.join(s.machines_dir, "demo", "machine.ini")
        if not os.path.exists(path):
            raise StepFailure(f"no {path}: {os.listdir(s.machines_dir)}")
        ini = read_ini(path)
        got = (ini.get("boot", "kernel", fallback=None), ini.get("boot", "initrd", fallback=None),
               ini.get("boot", "cmdline", fallback=None))
        if got != (opts.guest, initrd, "console=ttyS0 demo=1"):
            raise StepFailure(f"the demo profile boots {got}, the script said "
                              f"{(opts.guest, initrd, 'console=ttyS0 demo=1')}")
        s.screenshot("10-demo-created.png", "Vessel")
    with s.step("the app remembers that the demo was created (GSettings demo-created)"):
        s.quit_app()
        settings = keyfile_settings(s)
        if not re.search(r"^demo-created=true$", settings, re.M):
            raise StepFailure(f"the settings keyfile does not say demo-created=true:\n{settings}")
    with s.step("after the user deletes the demo, a restart does not prepare it again"):
        import shutil
        shutil.rmtree(os.path.join(s.machines_dir, "demo"))
        runs_before = open(os.path.join(s.home, "demo-runs")).read().strip()
        s.start_app(extra_env={"VESSEL_PREPARE_DEMO": script})
        s.find("label", "No Machines", what="the 'No Machines' page")
        time.sleep(2)
        runs_after = open(os.path.join(s.home, "demo-runs")).read().strip()
        if runs_after != runs_before or demo_label(s) is not None:
            raise StepFailure("the demo was prepared again although demo-created=true")
        s.quit_app()


def scenario_demo_fail(s, opts):
    script, _ = write_demo_script(s, opts, failures=1, pause=0.2)
    with s.step("a failing preparation shows its message and 'Try Again'"):
        s.start_app(extra_env={"VESSEL_PREPARE_DEMO": script})
        message = s.find("label", re.compile(r"No network"), timeout=15,
                         what="the script's error message")
        text = text_of(message)
        log(f"  message: {text!r}")
        if "the kernel could not be downloaded" not in text:
            raise StepFailure(f"the failure message is cut: {text!r}")
        retry = find_button(s, s.main_window, "Try Again")
        s.screenshot("11-demo-failed.png", "Vessel")
    with s.step("Try Again runs the script again; this time the demo is created"):
        press(retry, "Try Again")
        wait_state(s, "Demo", "Stopped", 20)
        runs = open(os.path.join(s.home, "demo-runs")).read().strip()
        if runs != "2":
            raise StepFailure(f"the script ran {runs} times, want 2")
        if s.find_all_labels(re.compile(r"No network")):
            raise StepFailure("the failure message still shows after the demo was created")
    with s.step("app.quit ends the app"):
        s.quit_app()


def wait_delete_dialog(s):
    return s.wait_for(lambda: next((w for w in s.toplevels()
                                    if find_all(w, "label", "Delete “Doomed”?")), None),
                      10, "the 'Delete “Doomed”?' dialog")


def scenario_delete(s, opts):
    write_profile(s, "doomed", "Doomed", opts.guest)
    folder = os.path.join(s.machines_dir, "doomed")
    with s.step("start the app with one machine"):
        s.start_app()
        wait_state(s, "Doomed", "Stopped", 10)
    with s.step("app.delete-machine asks; Cancel keeps the machine"):
        s.action("delete-machine", "doomed")
        dialog = wait_delete_dialog(s)
        check = s.find(None, re.compile(r"disk files"), root=dialog,
                       what="the 'Also delete the machine's disk files' check box")
        if check.get_state_set().contains(harness.Atspi.StateType.CHECKED):
            raise StepFailure("'Also delete the disk files' is ticked by default")
        s.wait_for(lambda: s.window_geometry("Delete “Doomed”?"), 10, "the dialog's X window")
        s.screenshot_window("12-delete-dialog.png", "Delete “Doomed”?")
        press(find_button(s, dialog, "Cancel"), "Cancel")
        s.wait_for(lambda: not any(find_all(w, "label", "Delete “Doomed”?")
                                   for w in s.toplevels()), 10, "the dialog to close")
        time.sleep(0.5)
        if not os.path.exists(os.path.join(folder, "machine.ini")):
            raise StepFailure("Cancel deleted the machine")
        wait_state(s, "Doomed", "Stopped", 5)
    with s.step("app.delete-machine, Delete: the row and the folder are gone"):
        s.action("delete-machine", "doomed")
        dialog = wait_delete_dialog(s)
        press(find_button(s, dialog, "Delete"), "Delete")
        s.wait_for(lambda: machine_row(s, "Doomed")[1] is None, 10, "the row to go")
        s.wait_for(lambda: not os.path.exists(folder), 5, f"{folder} to be removed")
        s.find("label", "No Machines", what="the 'No Machines' page")
    with s.step("app.quit ends the app"):
        s.quit_app()


def scenario_host(s, opts):
    with s.step("no /dev/kvm: a notice says machines run on the software CPU, and why"):
        s.start_app(extra_env={"VESSEL_KVM_DEVICE": os.path.join(s.home, "no-kvm")})
        notice = s.wait_for(lambda: next((text_of(a) for a, _ in walk(s.main_window())
                                          if role_name(a) == "label" and is_showing(a)
                                          and "KVM is not available" in text_of(a)), None),
                            10, "the KVM notice")
        for words in ("software CPU", "slower", "VT-x", "kvm_intel"):
            if words not in notice:
                raise StepFailure(f"the KVM notice does not mention {words!r}: {notice!r}")
        s.screenshot("13-no-kvm.png", "Vessel")
    with s.step("app.quit ends the app"):
        s.quit_app()
    if not opts.localedir:
        raise StepFailure("--localedir is needed for the translation check")
    with s.step("in Vietnamese (LANGUAGE=vi): the window speaks it"):
        s.start_app(extra_env={"LANGUAGE": "vi"})
        s.find("label", "Chưa có máy ảo nào", what="the Vietnamese 'No Machines' page")
        s.screenshot("14-vietnamese.png", "Vessel")
    with s.step("app.quit ends the app"):
        s.quit_app()


def scenario_demo_real(s, opts):
    """What a new user does first: the real demo (Debian's kernel, busybox)
    prepared by the real script, started, and stopped by asking the guest."""
    if not opts.demo_script:
        raise StepFailure("--demo-script is needed for this scenario")
    env = {"VESSEL_PREPARE_DEMO": opts.demo_script, "XDG_CACHE_HOME": opts.demo_cache}
    log_path = os.path.join(s.machines_dir, "demo", "vessel-vmm.log")
    with s.step("first start: the app prepares the demo machine"):
        s.start_app(extra_env=env)
        wait_state(s, "Demo", "Stopped", 600)
    with s.step("Start -> Running, and the guest greets the user with a shell"):
        press(row_button(s, "Demo", "Start"), "Start")
        wait_state(s, "Demo", "Running")
        pids = s.wait_for(s.vmm_pids, 10, "a vessel-vmm process")
        s.wait_for(lambda: os.path.exists(log_path) and
                   "a shell started on /dev/tty1" in open(log_path, errors="replace").read(),
                   180, "the demo's shell on the screen (its log line)")
        # acpid, which hears the power button, starts with the shells.
        s.wait_for(lambda: "acpid" in open(log_path, errors="replace").read() or
                   "power button" in open(log_path, errors="replace").read(), 30,
                   "the guest listening to the power button")
        move_vmm_window_aside(s, pids[0], 905)
        time.sleep(1.0)
        s.screenshot("15-demo-running.png")
    with s.step("Stop asks the guest, which switches itself off -> Stopped, no Force Off"):
        started = time.monotonic()
        press(row_button(s, "Demo", "Stop"), "Stop")
        wait_state(s, "Demo", "Stopped", 30)
        took = time.monotonic() - started
        log(f"  stopped {took:.1f} s after Stop")
        if took >= 20:
            raise StepFailure(f"the guest took {took:.0f} s: Force Off time, not a clean stop")
        text = open(log_path, errors="replace").read()
        if "power button was pressed" not in text:
            raise StepFailure("the guest's log does not show the power button press")
        s.wait_for(lambda: not s.vmm_pids(), 10, "the VMM to end")
        s.screenshot("16-demo-stopped.png", "Vessel")
    with s.step("app.quit ends the app"):
        s.quit_app()


SCENARIOS = {
    "empty": (lambda s, o: scenario_empty(s), {}),
    "dialog": (scenario_dialog, {}),
    "run": (scenario_run, {"stop-timeout-seconds": STOP_TIMEOUT_SETTING}),
    "errors": (scenario_errors, {}),
    "demo": (scenario_demo, {"offer-demo": True}),
    "demo-fail": (scenario_demo_fail, {"offer-demo": True}),
    "delete": (scenario_delete, {}),
    "host": (scenario_host, {}),
    "demo-real": (scenario_demo_real, {"offer-demo": True}),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--app", required=True, help="build/ui/vessel")
    parser.add_argument("--vmm", required=True, help="build/app/vessel-vmm")
    parser.add_argument("--guest", required=True,
                        help="a test guest that runs until stopped (tests/guests/animate.elf)")
    parser.add_argument("--schema-dir", required=True, help="build/data (gschemas.compiled)")
    parser.add_argument("--localedir", default=None)
    parser.add_argument("--demo-script", default=None,
                        help="data/demo/vessel-prepare-demo, for the demo-real scenario")
    # The user's demo cache, which the demo tests fill (one download, not one per test).
    xdg_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    parser.add_argument("--demo-cache", default=xdg_cache,
                        help="XDG_CACHE_HOME for the demo script (default: the user's)")
    parser.add_argument("--artifacts", required=True)
    opts = parser.parse_args()
    opts.app, opts.vmm, opts.guest = (os.path.abspath(p) for p in (opts.app, opts.vmm,
                                                                   opts.guest))
    run, settings = SCENARIOS[opts.scenario]
    settings = {"offer-demo": False, **settings}
    problems = []
    with GuiSession(opts, opts.scenario, settings=settings,
                    screen="2560x1000" if opts.scenario in ("run", "demo-real") else "1280x960") as s:
        try:
            run(s, opts)
        except StepFailure as failure:
            problems.append(str(failure))
            output = s.app_output()
            if output:
                problems.append(f"--- the app's output ---\n{output}")
        finally:
            pass
    problems.extend(s.problems)
    log(f"artifacts: {s.artifacts}")
    if problems:
        print(f"FAIL: gui-{opts.scenario}")
        for p in problems:
            print(p)
        return 1
    print(f"PASS: gui-{opts.scenario}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
