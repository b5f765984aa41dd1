/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LD_PRELOAD shim for tests: VESSEL_FAULT_CREATE_VM_ERRNO=N makes
 * ioctl(KVM_CREATE_VM) fail with errno N, as it does on hosts where another
 * hypervisor holds the CPU's virtualization extensions (EBUSY) or memory is
 * short (ENOMEM).  Everything else goes to the real ioctl.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdlib.h>

int ioctl(int fd, unsigned long request, ...);

int ioctl(int fd, unsigned long request, ...)
{
	static int (*real_ioctl)(int, unsigned long, void *);
	const char *fault = getenv("VESSEL_FAULT_CREATE_VM_ERRNO");
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request == KVM_CREATE_VM && fault && *fault) {
		errno = atoi(fault);
		return -1;
	}
	if (!real_ioctl)
		real_ioctl = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
	return real_ioctl(fd, request, arg);
}
