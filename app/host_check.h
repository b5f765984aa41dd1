/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_APP_HOST_CHECK_H
#define VESSEL_APP_HOST_CHECK_H

#include <glib.h>

/* Whether machines can use KVM on this host, seen from the app's user. */
enum host_kvm_status {
	HOST_KVM_AVAILABLE,
	HOST_KVM_MISSING,	/* no /dev/kvm: no virtualization, or the module is not loaded */
	HOST_KVM_NO_PERMISSION,	/* /dev/kvm exists but this user may not open it */
	HOST_KVM_FAILED,	/* another reason; the message says which */
};

/*
 * Opens device_path (/dev/kvm) read-write as vessel-vmm would.  *message
 * (translated, for a casual user, NULL when available) says what it means
 * and how to fix it.
 */
enum host_kvm_status host_check_kvm(const char *device_path, char **message);

/*
 * Whether this host is itself a virtual machine (CPUID's hypervisor bit,
 * as /proc/cpuinfo shows it).  KVM inside a VM may be nested, where guest
 * kernels run about a thousand times slower than on the software CPU.
 */
gboolean host_is_virtual_machine(void);

#endif
