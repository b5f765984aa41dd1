# SPDX-License-Identifier: GPL-2.0-or-later
"""The vessel app under a private X server, D-Bus session and AT-SPI bus,
for the GUI tests (tests/gui/test_app.py).

A GuiSession owns, for one test:

* a temporary home: HOME, XDG_DATA_HOME (machine profiles),
  XDG_CONFIG_HOME (GSettings keyfile backend, GTK settings, user-dirs),
  XDG_RUNTIME_DIR (control sockets) and XDG_PICTURES_DIR under it;
* Xvfb on a free display (-displayfd, as tests/display-guests does);
* a private session bus (dbus-daemon --session); the accessibility bus
  (at-spi-bus-launcher, at-spi2-registryd) is started from it by D-Bus
  activation when the app's GTK and our libatspi ask for it;
* the app (build/ui/vessel), its stdout/stderr in the artifacts folder.

The app is driven through its GActions (org.gtk.Actions on the session
bus, as `gdbus call` would) and through AT-SPI: widgets are found by role
and accessible name, buttons pressed with their AT-SPI action.  Text is
typed with xdotool into the focused field (GTK 4.8 does not offer AT-SPI's
EditableText), after a click at the field's AT-SPI extents.

Screenshots are xwd dumps of the X server turned into PNG files
(tests/pylib/xshot.py), kept in the artifacts folder.

Every process started here is ended by its id when the session ends; the
processes that D-Bus activation started (the accessibility bus) carry a
marker in their environment and are ended by it.  Each child gets SIGKILL
if the test itself dies (tests/pylib/orphans.py).
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from orphans import die_with_parent  # noqa: E402
import xshot  # noqa: E402

import gi  # noqa: E402
gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

APP_ID = "dev.vessel.Vessel"
APP_OBJECT_PATH = "/dev/vessel/Vessel"
MARKER_VARIABLE = "VESSEL_GUI_TEST_SESSION"


class StepFailure(Exception):
    """A step of a scenario did not see what it expected."""


def log(text):
    print(text, flush=True)


# --- processes -----------------------------------------------------------

def process_environment(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def process_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def process_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def process_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def marked_processes(marker):
    """Live processes (not zombies) whose environment holds the marker."""
    want = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        if want in process_environment(entry) and process_state(entry) not in (None, "Z"):
            found.append(int(entry))
    return found


def end_processes(pids, grace=3.0):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(process_state(p) not in (None, "Z") for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if process_state(pid) not in (None, "Z"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --- AT-SPI --------------------------------------------------------------

def role_name(acc):
    try:
        return acc.get_role_name()
    except Exception:    # noqa: BLE001 (a widget that went away)
        return "?"


def acc_name(acc):
    try:
        return acc.get_name() or ""
    except Exception:    # noqa: BLE001
        return ""


def children(acc):
    try:
        n = acc.get_child_count()
    except Exception:    # noqa: BLE001
        return []
    out = []
    for i in range(n):
        try:
            child = acc.get_child_at_index(i)
        except Exception:    # noqa: BLE001
            child = None
        if child is not None:
            out.append(child)
    return out


def states(acc):
    try:
        return acc.get_state_set()
    except Exception:    # noqa: BLE001
        return None


def extents(acc):
    """(x, y, width, height) relative to the accessible's window, or None."""
    try:
        e = acc.get_extents(Atspi.CoordType.WINDOW)
    except Exception:    # noqa: BLE001 (no Component interface)
        return None
    return e.x, e.y, e.width, e.height


def is_showing(acc):
    """On screen, as far as the accessible itself tells.  GTK 4.8 marks
    only windows SHOWING and calls every widget with the visible property
    VISIBLE, even on a hidden stack page or in a closed revealer.  Those
    have empty extents when they were never mapped, but keep their last
    ones when they were: so walk() also leaves out everything under an
    accessible with empty extents (a closed revealer has height 0)."""
    s = states(acc)
    if not s or not s.contains(Atspi.StateType.VISIBLE):
        return False
    if s.contains(Atspi.StateType.SHOWING) and role_name(acc) in ("frame", "dialog", "window",
                                                                  "alert", "application"):
        return True
    e = extents(acc)
    if e is None:    # a GtkStackPage: no Component; its child tells
        return True
    return e[2] > 0 and e[3] > 0


def walk(acc, depth=0, max_depth=60, hidden=False):
    """acc and its descendants, depth first; without hidden=True, not
    what lies under an accessible that does not show."""
    yield acc, depth
    if depth >= max_depth:
        return
    if not hidden and depth > 0 and not is_showing(acc):
        return
    for child in children(acc):
        yield from walk(child, depth + 1, max_depth, hidden)


def matches(acc, role=None, name=None, showing=True):
    if role is not None and role_name(acc) != role:
        return False
    if name is not None:
        n = acc_name(acc)
        if isinstance(name, re.Pattern):
            if not name.search(n):
                return False
        elif n != name:
            return False
    if showing and not is_showing(acc):
        return False
    return True


def find_all(root, role=None, name=None, showing=True):
    return [acc for acc, _ in walk(root) if matches(acc, role, name, showing)]


def text_of(acc):
    """A label's text: its Text interface, else its accessible name."""
    try:
        if acc.get_interfaces().count("Text"):
            return acc.get_text(0, acc.get_character_count())
    except Exception:    # noqa: BLE001
        pass
    return acc_name(acc)


def dump_tree(root, showing_only=True):
    lines = []
    for acc, depth in walk(root):
        if showing_only and depth > 0 and not is_showing(acc):
            continue
        extra = ""
        if role_name(acc) in ("label", "text", "entry", "spin button"):
            extra = f" text={text_of(acc)!r}"
        lines.append(f"{'  ' * depth}[{role_name(acc)}] {acc_name(acc)!r}{extra}")
    return "\n".join(lines)


def press(acc, what="button"):
    """Runs the widget's first AT-SPI action (GTK: "click" for buttons)."""
    if "Action" not in acc.get_interfaces() or acc.get_n_actions() < 1:
        raise StepFailure(f"{what} ({role_name(acc)} {acc_name(acc)!r}) has no AT-SPI action")
    if not acc.do_action(0):
        raise StepFailure(f"the AT-SPI action {acc.get_action_name(0)!r} of {what} failed")


# --- the session ---------------------------------------------------------

class GuiSession:
    """One private desktop with the app; use as a context manager."""

    def __init__(self, opts, name, settings=None, screen="1280x960"):
        self.opts = opts
        self.name = name
        self.settings = dict(settings or {})
        self.screen = screen
        self.marker = uuid.uuid4().hex
        self.procs = []         # (Popen, what) started by us, ended in __exit__
        self.app = None
        self.app_log = None
        self.app_acc = None
        self.xvfb = None
        self.dbus = None
        self.env = None
        self.artifacts = os.path.join(opts.artifacts, name)
        self.shots = []
        self.problems = []

    # -- set-up

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix=f"vessel-gui-{self.name}-")
        self.home = os.path.join(self.tmp, "home")
        self.data_home = os.path.join(self.home, ".local", "share")
        self.config_home = os.path.join(self.home, ".config")
        self.cache_home = os.path.join(self.home, ".cache")
        self.runtime_dir = os.path.join(self.tmp, "runtime")
        self.pictures = os.path.join(self.home, "Pictures")
        for d in (self.data_home, self.config_home, self.cache_home, self.pictures):
            os.makedirs(d, exist_ok=True)
        os.makedirs(self.runtime_dir, mode=0o700)
        shutil.rmtree(self.artifacts, ignore_errors=True)
        os.makedirs(self.artifacts, exist_ok=True)
        self.machines_dir = os.path.join(self.data_home, "vessel", "machines")
        self._write_config()
        try:
            self._start_xvfb()
            self._start_dbus()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _write_config(self):
        # GSettings keyfile backend: [dev/vessel/Vessel] key=value (GVariant text).
        settings_dir = os.path.join(self.config_home, "glib-2.0", "settings")
        os.makedirs(settings_dir, exist_ok=True)
        with open(os.path.join(settings_dir, "keyfile"), "w") as f:
            f.write("[dev/vessel/Vessel]\n")
            for key, value in self.settings.items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                f.write(f"{key}={value}\n")
        # No animations: a screenshot or a check never sees half a transition.
        gtk_dir = os.path.join(self.config_home, "gtk-4.0")
        os.makedirs(gtk_dir, exist_ok=True)
        with open(os.path.join(gtk_dir, "settings.ini"), "w") as f:
            f.write("[Settings]\ngtk-enable-animations=false\ngtk-cursor-blink=false\n")
        # A pictures folder, so the screenshot action has one to use.
        with open(os.path.join(self.config_home, "user-dirs.dirs"), "w") as f:
            f.write('XDG_PICTURES_DIR="$HOME/Pictures"\n')

    def _spawn(self, cmd, what, env=None, **kwargs):
        proc = subprocess.Popen(cmd, env=env if env is not None else self.env,
                                preexec_fn=die_with_parent, **kwargs)
        self.procs.append((proc, what))
        return proc

    def _start_xvfb(self):
        """Xvfb on a free display.  A server that dies at once (another one
        took the display in a race) is replaced, up to three times."""
        base = dict(os.environ)
        base[MARKER_VARIABLE] = self.marker
        for attempt in range(3):
            read_fd, write_fd = os.pipe()
            self.xvfb = self._spawn(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                                     f"{self.screen}x24", "-nolisten", "tcp",
                                     # No server reset when the probe, the last client, leaves:
                                     # a client connecting during a reset is refused.
                                     "-noreset"], "Xvfb",
                                    env=base, pass_fds=[write_fd], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            os.close(write_fd)
            with os.fdopen(read_fd, "rb") as f:
                number = f.readline().strip()
            if number.isdigit():
                self.display = f":{number.decode()}"
                probe = subprocess.run(["xdotool", "getdisplaygeometry"],
                                       env=dict(base, DISPLAY=self.display),
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       text=True, timeout=10)
                if probe.returncode == 0 and self.xvfb.poll() is None:
                    return
            log(f"  Xvfb attempt {attempt + 1} failed (display {number!r}); again")
            if self.xvfb.poll() is None:
                self.xvfb.kill()
            self.xvfb.wait()
        raise StepFailure("Xvfb did not start")

    def _start_dbus(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("DBUS_SESSION_BUS_ADDRESS", "AT_SPI_BUS_ADDRESS", "NO_AT_BRIDGE",
                            "GTK_A11Y", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE",
                            "XDG_CURRENT_DESKTOP", "SESSION_MANAGER", "GTK_MODULES",
                            "GSETTINGS_BACKEND", "GSETTINGS_SCHEMA_DIR", "LANGUAGE",
                            # The app chooses its renderer (app/vessel.c): no GPU, no GL.
                            "GSK_RENDERER", "GDK_DEBUG",
                            "XDG_DATA_DIRS", "XDG_CONFIG_DIRS")}
        env.update({
            MARKER_VARIABLE: self.marker,
            "DISPLAY": self.display,
            "HOME": self.home,
            "XDG_DATA_HOME": self.data_home,
            "XDG_CONFIG_HOME": self.config_home,
            "XDG_CACHE_HOME": self.cache_home,
            "XDG_RUNTIME_DIR": self.runtime_dir,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "GSETTINGS_BACKEND": "keyfile",
            "GSETTINGS_SCHEMA_DIR": self.opts.schema_dir,
            "GDK_BACKEND": "x11",
            "GTK_USE_PORTAL": "0",
            "ADW_DISABLE_PORTAL": "1",
            "VESSEL_VMM": self.opts.vmm,
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        if self.opts.localedir:
            env["VESSEL_LOCALEDIR"] = self.opts.localedir
        read_fd, write_fd = os.pipe()
        self.dbus = self._spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                 f"--print-address={write_fd}"], "dbus-daemon", env=env,
                                pass_fds=[write_fd], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as f:
            address = f.readline().decode().strip()
        if not address:
            raise StepFailure("dbus-daemon did not print its address")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.env = env
        # libatspi in this process finds the accessibility bus through this
        # session bus (org.a11y.Bus), or through the X root window's AT_SPI_BUS.
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        os.environ["DISPLAY"] = self.display
        os.environ.pop("AT_SPI_BUS_ADDRESS", None)
        os.environ.pop("NO_AT_BRIDGE", None)
        Atspi.init()

    # -- the app

    def start_app(self, extra_env=None, wait_window=True):
        env = dict(self.env)
        env.update(extra_env or {})
        self.app_log_path = os.path.join(self.artifacts, "vessel.log")
        self.app_log = open(self.app_log_path, "ab")
        self.app = self._spawn([self.opts.app], "vessel", env=env, stdout=self.app_log,
                               stderr=subprocess.STDOUT)
        if wait_window:
            self.wait_window()
        return self.app

    def app_output(self):
        try:
            with open(self.app_log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def _find_app_accessible(self):
        desktop = Atspi.get_desktop(0)
        for app in children(desktop):
            try:
                if app.get_process_id() == self.app.pid:
                    return app
            except Exception:    # noqa: BLE001
                continue
        return None

    def wait_window(self, timeout=30):
        """The app's main window ("Vessel" frame) in the AT-SPI tree."""
        def window():
            if self.app.poll() is not None:
                number = self.display.lstrip(":")
                raise StepFailure(f"the app exited with status {self.app.returncode} "
                                  f"before showing its window:\n{self.app_output()}\n"
                                  f"(Xvfb {self.display}: running={self.xvfb.poll() is None}, "
                                  f"socket={os.path.exists('/tmp/.X11-unix/X' + number)}, "
                                  f"lock={os.path.exists('/tmp/.X' + number + '-lock')})")
            self.app_acc = self._find_app_accessible()
            if self.app_acc is None:
                return None
            return self.main_window()
        return self.wait_for(window, timeout, "the app's window on the accessibility bus")

    def toplevels(self):
        return [w for w in children(self.app_acc) if is_showing(w)] if self.app_acc else []

    def main_window(self):
        for w in self.toplevels():
            if acc_name(w) == "Vessel" and role_name(w) == "frame":
                return w
        return None

    def window_named(self, title):
        for w in self.toplevels():
            if acc_name(w) == title:
                return w
        return None

    def action(self, name, parameter=None):
        """Activates app.NAME over D-Bus, as `gdbus call ... org.gtk.Actions.Activate`."""
        param = "[]" if parameter is None else f"[<{gvariant_string(parameter)}>]"
        r = subprocess.run(["gdbus", "call", "--session", "--dest", APP_ID,
                            "--object-path", APP_OBJECT_PATH,
                            "--method", "org.gtk.Actions.Activate", name, param, "{}"],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=20)
        if r.returncode != 0:
            raise StepFailure(f"the D-Bus action {name}({parameter!r}) failed: {r.stderr.strip()}")

    def list_actions(self):
        r = subprocess.run(["gdbus", "call", "--session", "--dest", APP_ID,
                            "--object-path", APP_OBJECT_PATH,
                            "--method", "org.gtk.Actions.List"],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=20)
        return r.stdout

    def quit_app(self, timeout=20):
        """app.quit; the app must exit by itself with status 0."""
        if self.app is None or self.app.poll() is not None:
            return
        self.action("quit")
        try:
            status = self.app.wait(timeout)
        except subprocess.TimeoutExpired:
            raise StepFailure(f"the app did not exit within {timeout} s of app.quit") from None
        if status != 0:
            raise StepFailure(f"the app exited with status {status}:\n{self.app_output()}")
        # Quitting ends the machines too (application.c: force_off_all).
        try:
            self.wait_for(lambda: not self.vmm_pids() or (None, self.vmm_pids()), 10,
                          "no vessel-vmm process after the app quit")
        except StepFailure:
            left = self.vmm_pids()
            end_processes(left)
            raise

    # -- waiting and finding

    def wait_for(self, probe, timeout, what, interval=0.2):
        """probe()'s first true value within timeout, else StepFailure.  A
        probe may return (None, observation) to say what it saw instead."""
        deadline = time.monotonic() + timeout
        seen = None
        while True:
            value = probe()
            if isinstance(value, tuple) and len(value) == 2 and value[0] is None:
                seen = value[1]
            elif value:
                return value
            if time.monotonic() >= deadline:
                extra = f" (last seen: {seen})" if seen is not None else ""
                raise StepFailure(f"timed out after {timeout} s waiting for {what}{extra}")
            time.sleep(interval)

    def find(self, role=None, name=None, root=None, timeout=10, what=None):
        """The first showing accessible with that role and name."""
        root_fn = (lambda: root) if root is not None else self.main_window

        def probe():
            r = root_fn()
            if r is None:
                return None
            found = find_all(r, role, name)
            return found[0] if found else None
        label = what or f"[{role}] {name!r}"
        return self.wait_for(probe, timeout, label)

    def find_all_labels(self, name):
        window = self.main_window()
        return find_all(window, "label", name) if window is not None else []

    def find_all_list_items(self):
        """The rows of the machine list that show."""
        window = self.main_window()
        if window is None:
            return []
        lists = find_all(window, "list", "Machines")
        return [c for lst in lists for c in children(lst)
                if role_name(c) == "list item" and is_showing(c)]

    def tree(self, root=None):
        root = root or self.app_acc
        return dump_tree(root) if root is not None else "(no app on the accessibility bus)"

    # -- input

    def window_geometry(self, title):
        """(x, y, width, height) of an X window by its exact title."""
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(title)}$"],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=10)
        ids = r.stdout.split()
        if not ids:
            return None
        return self.xwindow_geometry(ids[-1])

    def screenshot_window(self, filename, title):
        """Saves a PNG of one X window's own contents (xwd -id).  Without a
        window manager (Xvfb) a new dialog may map under the main window,
        so a crop of the screen would not show it."""
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(title)}$"],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=10)
        ids = r.stdout.split()
        if not ids:
            raise StepFailure(f"screenshot {filename}: no X window titled {title!r}")
        time.sleep(0.3)     # the last frame drawn
        path = os.path.join(self.artifacts, filename)
        xshot.save_png(xshot.capture(self.env, ids[-1]), path)
        self.shots.append(path)
        log(f"  screenshot: {path}")
        return path

    def app_xwindows(self):
        """The app's visible X windows (GTK sets _NET_WM_PID)."""
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(self.app.pid)],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=10)
        return r.stdout.split()

    def wait_xwindows(self, count, timeout=10):
        """Until the app shows at least count X windows (a dialog's
        accessible exists before its window is mapped and drawn)."""
        self.wait_for(lambda: len(self.app_xwindows()) >= count or
                      (None, len(self.app_xwindows())), timeout,
                      f"{count} visible X windows of the app")
        time.sleep(0.5)

    def xwindow_geometry(self, window):
        g = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           timeout=10).stdout
        v = dict(line.split("=", 1) for line in g.split() if "=" in line)
        return int(v["X"]), int(v["Y"]), int(v["WIDTH"]), int(v["HEIGHT"])

    def xdotool(self, *args):
        subprocess.run(["xdotool", *args], env=self.env, check=True, timeout=20,
                       stdout=subprocess.DEVNULL)

    def click(self, acc, window_title):
        """A pointer click at the middle of an accessible's extents (GTK
        gives them relative to its window)."""
        geometry = self.window_geometry(window_title)
        if geometry is None:
            raise StepFailure(f"no X window titled {window_title!r}")
        ext = acc.get_extents(Atspi.CoordType.WINDOW)
        x = geometry[0] + ext.x + ext.width // 2
        y = geometry[1] + ext.y + ext.height // 2
        self.xdotool("mousemove", "--sync", str(x), str(y))
        self.xdotool("click", "1")

    def type_into(self, acc, window_title, text, what):
        """Focuses a text field by a click, replaces its contents by text."""
        self.click(acc, window_title)
        time.sleep(0.2)
        self.xdotool("key", "--clearmodifiers", "ctrl+a")
        self.xdotool("key", "--clearmodifiers", "BackSpace")
        if text:
            self.xdotool("type", "--delay", "20", "--clearmodifiers", text)
        time.sleep(0.3)

    # -- screenshots

    def screenshot(self, filename, window_title=None, region=None):
        """Saves a PNG of a window (by its X title, cropped from the
        screen so that what lies over it shows too), of a region, or of
        the whole screen, into the artifacts folder."""
        time.sleep(0.3)     # the last frame drawn
        picture = xshot.capture(self.env)
        if window_title:
            geometry = self.window_geometry(window_title)
            if geometry is None:
                raise StepFailure(f"screenshot {filename}: no X window titled {window_title!r}")
            picture = xshot.crop(picture, *geometry)
        elif region:
            picture = xshot.crop(picture, *region)
        path = os.path.join(self.artifacts, filename)
        xshot.save_png(picture, path)
        self.shots.append(path)
        log(f"  screenshot: {path}")
        return path

    # -- steps

    @contextlib.contextmanager
    def step(self, label):
        """Runs one step; a failure is reported with the step's label and
        the AT-SPI tree of the app, and ends the scenario."""
        log(f"- {label}")
        try:
            yield
        except StepFailure as failure:
            with contextlib.suppress(Exception):
                self.screenshot(f"FAILED-{re.sub(r'[^A-Za-z0-9]+', '-', label)[:40]}.png")
            tree = ""
            with contextlib.suppress(Exception):
                tree = self.tree()
            raise StepFailure(f"step '{label}': {failure}\n--- the app's accessible tree ---\n"
                              f"{tree}") from None

    # -- clean-up

    def vmm_pids(self):
        """vessel-vmm processes of this session."""
        return [pid for pid in marked_processes(self.marker)
                if os.path.basename((process_cmdline(pid) or [""])[0]) == "vessel-vmm"
                or process_name(pid) == "vessel-vmm"]

    def __exit__(self, exc_type, exc, tb):
        killed = False
        if self.app is not None and self.app.poll() is None:
            killed = True       # a step failed: no clean quit to expect
            self.app.terminate()
            try:
                self.app.wait(5)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait()
        # VMMs the app left behind after quitting: a problem of the app.
        # (After SIGTERM they are only cleaned up: the app has no handler.)
        left = self.vmm_pids()
        if left:
            if not killed:
                self.problems.append(f"vessel-vmm processes outlived the app: {left}")
            else:
                log(f"  ending vessel-vmm processes left by the killed app: {left}")
            end_processes(left)
        # The accessibility bus and anything else activated from our session bus.
        for proc, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        end_processes(marked_processes(self.marker))
        if self.app_log:
            self.app_log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def gvariant_string(value):
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise TypeError(value)
