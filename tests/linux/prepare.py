#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prepares the Linux test guest: Debian's kernel and a busybox initramfs.

The kernel is the one Debian's linux-image-amd64 depends on, fetched with
`apt-get download` (nothing is installed on this machine) and unpacked into
a cache directory. The initramfs is built from busybox-static, /init and the
workload in this directory, with the workload's answers computed on the
host. Both are cached: a second run needs no network and rebuilds nothing.

Prints the results as shell assignments (or JSON with --json):

    eval "$(tests/linux/prepare.py)"
    qemu-system-x86_64 -kernel "$VESSEL_LINUX_KERNEL" -initrd "$VESSEL_LINUX_INITRD" \\
        -append "$VESSEL_LINUX_CMDLINE" ...

Progress and errors go to stderr. See tests/linux/README.md.
"""

import argparse
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# The guest's kernel command line; README.md says why each option is there.
CMDLINE = "console=ttyS0 nokaslr panic=-1 oops=panic mitigations=off"
MEMORY_MIB = 256

# The workload's sizes (sourced by workload.sh as workload.conf), chosen so
# that it takes about a second on qemu-system-x86_64 -accel tcg.
WORKLOAD = {
    "WORKLOAD_LINES": 10000,
    "WORKLOAD_ARITH_ROUNDS": 1500,
    "WORKLOAD_FLOAT_TERMS": 10000,
    "WORKLOAD_PROCESSES": 20,
}

META_PACKAGE = "linux-image-amd64"
BUSYBOX = "/bin/busybox"


class PrepareError(Exception):
    """Something the user has to fix; the message says what."""


def say(message):
    print(f"prepare: {message}", file=sys.stderr, flush=True)


def default_cache_dir():
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "vessel", "linux")


@contextlib.contextmanager
def locked(cache_dir):
    """Serializes preparations sharing one cache (meson runs tests in
    parallel, and several checkouts may share ~/.cache)."""
    os.makedirs(cache_dir, exist_ok=True)
    with open(os.path.join(cache_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "LC_ALL": "C"}, **kwargs)


# --- the kernel ------------------------------------------------------------

def remove_leftovers(directory, prefix):
    """Removes the temporary directories of a run that was killed (the
    caller holds the cache lock, so no other run is using them)."""
    for path in glob.glob(os.path.join(directory, prefix + "*")):
        shutil.rmtree(path, ignore_errors=True)


def kernel_package_from_apt():
    """The versioned package linux-image-amd64 depends on, from apt's local
    package lists (no network)."""
    try:
        result = run(["apt-cache", "depends", META_PACKAGE])
    except FileNotFoundError:
        raise PrepareError("apt-cache not found: this script fetches Debian's kernel with apt; "
                           "on another system pass --package and a cache that already holds it")
    match = re.search(r"Depends: (linux-image-[0-9]\S*-amd64)$", result.stdout, re.M)
    if result.returncode != 0 or not match:
        raise PrepareError(f"apt does not know which kernel {META_PACKAGE} depends on "
                           f"({(result.stderr.strip() or 'no Depends line').splitlines()[-1]}); "
                           "the package lists may be missing: run 'sudo apt-get update'")
    return match.group(1)


def cached_kernels(cache_dir):
    """Package names of the kernels already unpacked in the cache."""
    return sorted((os.path.basename(os.path.dirname(path))
                   for path in glob.glob(os.path.join(cache_dir, "kernel", "*", "version"))),
                  key=lambda name: [int(n) if n.isdigit() else n for n in re.split(r"(\d+)", name)])


def fetch_kernel_deb(directory, package):
    """apt-get download of the package into directory; returns the .deb."""
    say(f"downloading {package} with apt-get download (about 70 MB; nothing is installed)")
    cmd = ["apt-get", "download", "-q"]
    if os.geteuid() == 0:
        # apt's download user cannot write into root's cache; root downloads itself.
        cmd += ["-o", "APT::Sandbox::User=root"]
    result = run(cmd + [package], cwd=directory)
    debs = glob.glob(os.path.join(directory, f"{package}_*.deb"))
    if result.returncode != 0 or len(debs) != 1:
        detail = [line for line in result.stderr.splitlines() if line.startswith("E:")]
        raise PrepareError(
            f"could not download {package} ({(detail or [result.stderr.strip()])[0]}). "
            "Check the network connection; if apt says the file is not found (404), "
            "the package lists are out of date: run 'sudo apt-get update'")
    return debs[0]


def module_info(path):
    """The .modinfo section of a kernel module (ELF64): {key: value}."""
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = sections[shstrndx][4]
    for name, _, _, _, offset, size, *_ in sections:
        start = names_offset + name
        if data[start:data.index(b"\0", start)] == b".modinfo":
            strings = data[offset:offset + size].decode(errors="replace").split("\0")
            return dict(s.split("=", 1) for s in strings if "=" in s)
    return {}


def modules_cpio(module_dir, wanted, where, what):
    """A cpio archive of the modules `wanted` and those they need, in load
    order (WHERE/order, the modules beside it), from the modules unpacked
    under module_dir: appended to the test initramfs. The package has no
    modules.dep (depmod makes it at install time), so the order comes from
    each module's "depends"."""
    modules = {}
    for directory, _, files in os.walk(module_dir):
        for name in files:
            if name.endswith(".ko"):
                modules[name[:-3].replace("-", "_")] = os.path.join(directory, name)
    order = []

    def visit(name):
        if name in order:
            return
        if name not in modules:
            raise PrepareError(f"{what} needs module {name}, which is not among "
                               f"{', '.join(sorted(modules)) or 'no modules'} unpacked from the kernel package")
        for dep in filter(None, module_info(modules[name]).get("depends", "").split(",")):
            visit(dep.replace("-", "_"))
        order.append(name)

    for name in wanted:
        visit(name)
    entries = [(where, stat.S_IFDIR | 0o755, b"", (0, 0)),
               (f"{where}/order", stat.S_IFREG | 0o644, "".join(m + "\n" for m in order).encode(), (0, 0))]
    for name in order:
        with open(modules[name], "rb") as f:
            entries.append((f"{where}/{name}.ko", stat.S_IFREG | 0o644, f.read(), (0, 0)))
    return cpio_newc(entries)


def bochs_modules_cpio(drm_dir):
    """Linux's bochs DRM driver and what it needs (vessel/modules), from the
    kernel package's drivers/gpu/drm: for run-fb.py --bochs."""
    return modules_cpio(drm_dir, ["bochs"], "vessel/modules", "the bochs DRM driver")


# The ACPI power button (drivers/acpi/button.ko: CONFIG_ACPI_BUTTON=m in
# Debian) and the event devices busybox acpid reads its key presses from
# (drivers/input/evdev.ko): for run-acpi.py.
ACPI_MODULE_FILES = {("drivers", "acpi", "button.ko"), ("drivers", "input", "evdev.ko")}


def acpi_modules_cpio(acpi_dir):
    return modules_cpio(acpi_dir, ["evdev", "button"], "vessel/acpi-modules", "the ACPI power button test")


def unpack_kernel(deb, unpacked, boot=True):
    """boot/ of the kernel package (vmlinuz, config, System.map) when boot
    is true, bochs-modules.cpio and acpi-modules.cpio; `dpkg -x` would also
    unpack 400 MB of modules the tests do not use."""
    say(f"unpacking {'boot/ and ' if boot else ''}the bochs DRM and ACPI modules from {os.path.basename(deb)}")
    drm_dir = os.path.join(unpacked, "drm")
    acpi_dir = os.path.join(unpacked, "acpi")
    os.makedirs(os.path.join(unpacked, "boot"))
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE) as proc:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = os.path.normpath(member.name)
                parts = name.split("/")
                if not member.isfile():
                    continue
                if boot and os.path.dirname(name) == "boot":
                    target = os.path.join(unpacked, "boot", os.path.basename(name))
                elif parts[:2] == ["lib", "modules"] and parts[3:6] == ["kernel", "drivers", "gpu"] \
                        and len(parts) > 6 and parts[6] == "drm" and name.endswith(".ko"):
                    target = os.path.join(drm_dir, *parts[7:])
                elif parts[:2] == ["lib", "modules"] and parts[3:4] == ["kernel"] \
                        and tuple(parts[4:]) in ACPI_MODULE_FILES:
                    target = os.path.join(acpi_dir, parts[-1])
                else:
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    if proc.returncode != 0:
        raise PrepareError(f"dpkg-deb could not read {deb}")
    if boot and not glob.glob(os.path.join(unpacked, "boot", "vmlinuz-*")):
        raise PrepareError(f"{os.path.basename(deb)} has no boot/vmlinuz-*")
    with open(os.path.join(unpacked, BOCHS_MODULES), "wb") as f:
        f.write(bochs_modules_cpio(drm_dir))
    with open(os.path.join(unpacked, ACPI_MODULES), "wb") as f:
        f.write(acpi_modules_cpio(acpi_dir))
    shutil.rmtree(drm_dir)
    shutil.rmtree(acpi_dir, ignore_errors=True)


BOCHS_MODULES = "bochs-modules.cpio"
ACPI_MODULES = "acpi-modules.cpio"


def download_kernel(cache_dir, package):
    """apt-get download + unpack into cache_dir/kernel/PACKAGE."""
    kernel_root = os.path.join(cache_dir, "kernel")
    os.makedirs(kernel_root, exist_ok=True)
    remove_leftovers(kernel_root, "download-")
    with tempfile.TemporaryDirectory(prefix="download-", dir=kernel_root) as tmp:
        deb = fetch_kernel_deb(tmp, package)
        version = run(["dpkg-deb", "--field", deb, "Version"]).stdout.strip()
        unpacked = os.path.join(tmp, "unpacked")
        unpack_kernel(deb, unpacked)
        with open(os.path.join(unpacked, "version"), "w") as f:
            f.write(version + "\n")
        os.replace(unpacked, os.path.join(kernel_root, package))


def prepare_modules(cache_dir, package, archive):
    """The path of the kernel's module archive (BOCHS_MODULES or
    ACPI_MODULES), downloading the package again for a cache made before
    the archive existed."""
    path = os.path.join(cache_dir, "kernel", package, archive)
    if os.path.exists(path):
        return path
    kernel_root = os.path.join(cache_dir, "kernel")
    with tempfile.TemporaryDirectory(prefix="download-", dir=kernel_root) as tmp:
        unpacked = os.path.join(tmp, "unpacked")
        unpack_kernel(fetch_kernel_deb(tmp, package), unpacked, boot=False)
        for name in (BOCHS_MODULES, ACPI_MODULES):
            os.replace(os.path.join(unpacked, name), os.path.join(cache_dir, "kernel", package, name))
    return path


def prepare_kernel(cache_dir, package=None):
    """Returns (vmlinuz path, package, version); downloads only what the
    cache lacks."""
    cached = cached_kernels(cache_dir)
    chosen = package is not None
    if not chosen:
        try:
            package = kernel_package_from_apt()
        except PrepareError as error:
            if not cached:
                raise
            say(f"{error}; using the cached {cached[-1]}")
            package = cached[-1]
    if package not in cached:
        try:
            download_kernel(cache_dir, package)
        except PrepareError as error:
            if chosen or not cached:
                raise
            say(f"{error}\nprepare: offline? using the cached {cached[-1]} instead")
            package = cached[-1]
    directory = os.path.join(cache_dir, "kernel", package)
    with open(os.path.join(directory, "version")) as f:
        version = f.read().strip()
    (vmlinuz,) = glob.glob(os.path.join(directory, "boot", "vmlinuz-*"))
    return vmlinuz, package, version


# --- the initramfs ---------------------------------------------------------

def check_busybox(path):
    """The busybox to put in the initramfs must be static: the initramfs
    has no C library."""
    if not os.path.exists(path):
        raise PrepareError(f"{path} not found: install Debian's busybox-static "
                           "(sudo apt-get install busybox-static)")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2:
        raise PrepareError(f"{path} is not a 64-bit ELF program")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    PT_INTERP = 3
    for index in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + index * phentsize)
        if p_type == PT_INTERP:
            raise PrepareError(f"{path} is dynamically linked, and the initramfs has no C "
                               "library: install Debian's busybox-static (sudo apt-get install "
                               "busybox-static; it replaces the dynamic 'busybox' package)")
    return data


def cpio_newc(entries):
    """A cpio archive in the "newc" format the kernel unpacks
    (Documentation/driver-api/early-userspace/buffer-format.rst): for each
    file a "070701" header of 13 hex fields, the name with its NUL, padding
    to 4 bytes, the data, padding to 4 bytes; then a "TRAILER!!!" entry.
    Owner root, mtime 0: the same inputs always give the same bytes, and
    device nodes need no privileges.

    entries: (name, mode, data, (rdev major, rdev minor)), parents first."""
    def pad4(buf):
        buf.extend(b"\0" * (-len(buf) % 4))

    out = bytearray()
    for ino, (name, mode, data, rdev) in enumerate(entries + [("TRAILER!!!", 0, b"", (0, 0))], 1):
        name_bytes = name.encode() + b"\0"
        nlink = 2 if stat.S_ISDIR(mode) else 1
        if name == "TRAILER!!!":
            ino = nlink = 0
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0)
        out += b"070701" + "".join(f"{v:08x}" for v in fields).encode() + name_bytes
        pad4(out)
        out += data
        pad4(out)
    return bytes(out)


def initramfs_entries(busybox, applets, conf, expected):
    def directory(name):
        return (name, stat.S_IFDIR | 0o755, b"", (0, 0))

    def regular(name, data, perm=0o644):
        return (name, stat.S_IFREG | perm, data, (0, 0))

    with open(os.path.join(HERE, "init"), "rb") as f:
        init = f.read()
    with open(os.path.join(HERE, "workload.sh"), "rb") as f:
        workload = f.read()
    with open(os.path.join(HERE, "fbtest.sh"), "rb") as f:
        fbtest = f.read()
    entries = [directory(d) for d in ("bin", "dev", "proc", "sys", "tmp", "vessel")]
    # The kernel opens /dev/console for init's stdin/out/err before devtmpfs
    # is mounted, so the node must be in the archive (char 5:1).
    entries.append(("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)))
    entries.append(regular("bin/busybox", busybox, 0o755))
    entries += [("bin/" + applet, stat.S_IFLNK | 0o777, b"busybox", (0, 0))
                for applet in applets if applet != "busybox"]
    entries.append(regular("init", init, 0o755))
    entries.append(regular("vessel/workload.sh", workload))
    entries.append(regular("vessel/fbtest.sh", fbtest))
    entries.append(regular("vessel/workload.conf", conf.encode()))
    entries.append(regular("vessel/expected", expected.encode()))
    return entries


def workload_on_host(busybox_path, applets, conf):
    """Runs workload.sh with the same busybox on the host CPU."""
    with tempfile.TemporaryDirectory(prefix="vessel-workload-") as tmp:
        bin_dir = os.path.join(tmp, "bin")
        os.mkdir(bin_dir)
        for applet in applets:
            os.symlink(busybox_path, os.path.join(bin_dir, applet))
        with open(os.path.join(tmp, "workload.conf"), "w") as f:
            f.write(conf)
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        script = f". {shlex.quote(tmp)}/workload.conf; . {shlex.quote(HERE)}/workload.sh; workload"
        result = subprocess.run([os.path.join(bin_dir, "sh"), "-c", script], cwd=work,
                                env={"PATH": bin_dir, "LC_ALL": "C"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0 or result.stderr:
        raise PrepareError(f"the workload failed on the host: {result.stderr.strip()}")
    return dict(line.split(" ", 1) for line in result.stdout.splitlines()), result.stdout


def workload_reference():
    """The answers of the steps Python can compute without busybox: an
    independent check of the host run."""
    lines = []
    s = 20240917
    for i in range(1, WORKLOAD["WORKLOAD_LINES"] + 1):
        s = s * 16807 % 2147483647
        lines.append(b"%010d %04x vessel line %d\n" % (s, s % 65536, i))
    h = 2166136261
    for i in range(WORKLOAD["WORKLOAD_ARITH_ROUNDS"]):
        h = ((h ^ i) * 16777619) & 0xFFFFFFFF
    x = 0.0
    for i in range(1, WORKLOAD["WORKLOAD_FLOAT_TERMS"] + 1):
        x += i / (i * i + 0.5)
    md5_lines = "".join(hashlib.md5(f"process {i}\n".encode()).hexdigest() + "  -\n"
                        for i in range(1, WORKLOAD["WORKLOAD_PROCESSES"] + 1))
    return {
        "data": hashlib.sha256(b"".join(lines)).hexdigest(),
        "sort": hashlib.sha256(b"".join(sorted(lines))).hexdigest(),
        "gunzip": "identical",
        "arith": str(h),
        "float": "%.17g" % x,
        "processes": hashlib.sha256(md5_lines.encode()).hexdigest(),
    }


def prepare_initramfs(cache_dir, busybox_path=BUSYBOX):
    """Builds (or finds in the cache) the initramfs and the one with a
    wrong expected answer; returns a dict describing them."""
    busybox = check_busybox(busybox_path)
    conf = "".join(f"{key}={value}\n" for key, value in WORKLOAD.items())
    key = hashlib.sha256(busybox + conf.encode())
    for name in ("init", "workload.sh", "fbtest.sh", os.path.basename(__file__)):
        with open(os.path.join(HERE, name), "rb") as f:
            key.update(f.read())
    directory = os.path.join(cache_dir, "initramfs", key.hexdigest()[:16])
    paths = {"initrd": os.path.join(directory, "initramfs.cpio"),
             "initrd_wrong_expected": os.path.join(directory, "initramfs-wrong-expected.cpio")}
    manifest_path = os.path.join(directory, "initramfs.json")
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            return {**paths, **json.load(f)}

    version = run([busybox_path]).stdout.split(" multi-call")[0]
    say(f"building the initramfs ({version}) in {directory}")
    applets = run([busybox_path, "--list"]).stdout.split()
    results, expected = workload_on_host(busybox_path, applets, conf)
    for step, value in workload_reference().items():
        if results.get(step) != value:
            raise PrepareError(f"on the host, busybox says {step} is {results.get(step)!r} "
                               f"and Python says {value!r}: the workload is not deterministic")
    say("expected answers: " + ", ".join(f"{k} {v[:16]}" for k, v in results.items()))

    # The same archive whose first answer is wrong: the guest must then
    # report VESSEL-WORKLOAD-FAIL and exit with status 67.
    first_step, first_value = expected.split("\n", 1)[0].split(" ", 1)
    wrong_value = ("1" if first_value[0] == "0" else "0") + first_value[1:]
    wrong_expected = expected.replace(f"{first_step} {first_value}\n", f"{first_step} {wrong_value}\n", 1)

    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    remove_leftovers(parent, "build-")
    tmp = tempfile.mkdtemp(prefix="build-", dir=parent)
    try:
        for path, answers in ((paths["initrd"], expected),
                              (paths["initrd_wrong_expected"], wrong_expected)):
            with open(os.path.join(tmp, os.path.basename(path)), "wb") as f:
                f.write(cpio_newc(initramfs_entries(busybox, applets, conf, answers)))
        manifest = {"checksum": hashlib.sha256(expected.encode()).hexdigest(), "busybox": version}
        with open(os.path.join(tmp, "initramfs.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {**paths, **manifest}


def prepare(cache_dir=None, package=None, busybox_path=BUSYBOX, bochs_modules=False,
            acpi_modules=False):
    """Everything a boot needs, as a dict: kernel, kernel_package,
    kernel_version, initrd, initrd_wrong_expected, checksum (what the guest
    prints after VESSEL-WORKLOAD-OK), busybox, cmdline, memory_mib; and
    bochs_modules and acpi_modules (cpio archives to append to the initrd)
    if asked."""
    cache_dir = cache_dir or os.environ.get("VESSEL_LINUX_CACHE") or default_cache_dir()
    with locked(cache_dir):
        kernel, kernel_package, kernel_version = prepare_kernel(cache_dir, package)
        guest = {"kernel": kernel, "kernel_package": kernel_package,
                 "kernel_version": kernel_version}
        guest.update(prepare_initramfs(cache_dir, busybox_path))
        if bochs_modules:
            guest["bochs_modules"] = prepare_modules(cache_dir, kernel_package, BOCHS_MODULES)
        if acpi_modules:
            guest["acpi_modules"] = prepare_modules(cache_dir, kernel_package, ACPI_MODULES)
    guest["cmdline"] = CMDLINE
    guest["memory_mib"] = MEMORY_MIB
    return guest


def main():
    parser = argparse.ArgumentParser(
        description="Fetch Debian's kernel and build the busybox initramfs of the Linux test guest.")
    parser.add_argument("--cache-dir", help="where to keep them (default: $VESSEL_LINUX_CACHE, "
                        "else ${XDG_CACHE_HOME:-$HOME/.cache}/vessel/linux)")
    parser.add_argument("--package", help=f"kernel package (default: the one {META_PACKAGE} "
                        "depends on, e.g. linux-image-6.1.0-56-amd64)")
    parser.add_argument("--busybox", default=BUSYBOX, help="a static busybox (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of shell assignments")
    args = parser.parse_args()
    try:
        guest = prepare(args.cache_dir, args.package, args.busybox)
    except PrepareError as error:
        print(f"prepare: error: {error}", file=sys.stderr)
        return 1
    say(f"kernel {guest['kernel_package']} {guest['kernel_version']}, "
        f"initramfs {os.path.getsize(guest['initrd']) // 1024} KiB: ready")
    if args.json:
        print(json.dumps(guest, indent=1))
    else:
        for key, value in guest.items():
            print(f"VESSEL_LINUX_{key.upper()}={shlex.quote(str(value))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
