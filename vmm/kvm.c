/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVM accelerator (Documentation/virt/kvm/api.rst): one VM file
 * descriptor with the in-kernel irqchip (8259 pair, IOAPIC, LAPICs) and PIT,
 * one vCPU file descriptor per vCPU thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel.h"
#include "error.h"
#include "kvm_cpuid.h"
#include "layout.h"
#include "log.h"

#define KVM_DEFAULT_DEVICE	"/dev/kvm"
#define KVM_KICK_SIGNAL		SIGUSR1
#define KVM_MAX_CPUID_ENTRIES	256

struct kvm_vm {
	struct accel_env env;
	int kvm_fd;
	int vm_fd;
	int run_size;
	bool tsc_deadline;
	struct kvm_cpuid2 *supported_cpuid;
	GMutex device_ram_lock;		/* slots of device memory, their dirty logs */
	uint64_t device_ram_slot_addr[GUEST_MEMORY_MAX_DEVICE_RAM];	/* or UNMAPPED */
};

/* Memory slots: RAM regions first, then device memory. */
#define KVM_DEVICE_RAM_SLOT(index) (GUEST_MEMORY_MAX_REGIONS + (index))

struct kvm_vcpu {
	struct kvm_vm *vm;
	struct vcpu *vcpu;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
};

/* The kvm_run of the vCPU running on this thread, for the kick handler. */
static __thread struct kvm_run *thread_kvm_run;

static void kick_signal_handler(int signo)
{
	/* Async-signal-safe: one store.  KVM_RUN then returns -EINTR. */
	if (thread_kvm_run)
		thread_kvm_run->immediate_exit = 1;
}

static void install_kick_handler(void)
{
	static gsize installed;

	if (g_once_init_enter(&installed)) {
		struct sigaction sa = { .sa_handler = kick_signal_handler };

		sigemptyset(&sa.sa_mask);
		/* No SA_RESTART: KVM_RUN must return to look at requests. */
		sigaction(KVM_KICK_SIGNAL, &sa, NULL);
		g_once_init_leave(&installed, 1);
	}
}

static const char *kvm_device_path(void)
{
	/* Documented for testing the error paths (docs/vessel-vmm.md). */
	const char *path = g_getenv("VESSEL_KVM_DEVICE");

	return path && *path ? path : KVM_DEFAULT_DEVICE;
}

static bool open_kvm(int *fd_out, GError **error)
{
	const char *path = kvm_device_path();
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int err = errno;

	if (fd < 0) {
		if (err == ENOENT || err == ENXIO || err == ENODEV)
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
				    "%s does not exist: this computer has no KVM (virtualization is off in the firmware settings, or the kvm_intel/kvm_amd module is not loaded)",
				    path);
		else if (err == EACCES || err == EPERM)
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_PERMISSION,
				    "%s: permission denied — add your user to the 'kvm' group (sudo usermod -aG kvm $USER), then log out and in again",
				    path);
		else
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
				    "cannot open %s: %s", path, g_strerror(err));
		return false;
	}
	int version = ioctl(fd, KVM_GET_API_VERSION, 0);

	if (version != KVM_API_VERSION) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    version < 0 ? "%s is not a KVM device" : "%s speaks KVM API version %d, vessel-vmm needs %d",
			    path, version, KVM_API_VERSION);
		close(fd);
		return false;
	}
	*fd_out = fd;
	return true;
}

static bool check_capabilities(int kvm_fd, GError **error)
{
	static const struct { int cap; const char *name; } required[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel interrupt controllers" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
		{ KVM_CAP_EXT_CPUID, "CPUID configuration" },
		{ KVM_CAP_USER_MEMORY, "user memory" },
		{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
		{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "identity map address" },
		{ KVM_CAP_IRQ_ROUTING, "interrupt routing" },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(required); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
				    "KVM on this computer lacks %s (capability %d); a newer Linux kernel is needed",
				    required[i].name, required[i].cap);
			return false;
		}
	}
	return true;
}

static struct kvm_cpuid2 *get_supported_cpuid(int kvm_fd, GError **error)
{
	for (unsigned int nent = 64; nent <= KVM_MAX_CPUID_ENTRIES * 4; nent *= 2) {
		struct kvm_cpuid2 *cpuid = g_malloc0(sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));

		cpuid->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			return cpuid;
		int err = errno;

		g_free(cpuid);
		if (err != E2BIG) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
				    "KVM cannot report its CPUID features: %s", g_strerror(err));
			return NULL;
		}
	}
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL, "KVM reports too many CPUID entries");
	return NULL;
}

static bool vm_ioctl(struct kvm_vm *vm, unsigned long request, void *arg, const char *what,
		     GError **error)
{
	if (ioctl(vm->vm_fd, request, arg) < 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    "KVM could not %s: %s", what, g_strerror(errno));
		return false;
	}
	return true;
}

#define KVM_IOAPIC_PINS 24

/*
 * GSI n drives 8259 input n (n < 16, not the cascade input 2) and I/O APIC
 * pin n, except that GSI 0, the PIT, goes to pin 2 as the MP table's
 * interrupt override says.  KVM's default routing sends GSI 0 to pin 0.
 */
static bool set_pc_irq_routing(struct kvm_vm *vm, GError **error)
{
	g_autofree struct kvm_irq_routing *routing =
		g_malloc0(sizeof(*routing) + 2 * KVM_IOAPIC_PINS * sizeof(routing->entries[0]));
	unsigned int n = 0;

	for (unsigned int gsi = 0; gsi < KVM_IOAPIC_PINS; gsi++) {
		if (gsi < 16 && gsi != 2) {
			routing->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					       .pin = gsi % 8 },
			};
		}
		if (gsi != 2) {
			routing->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi == 0 ? 2 : gsi },
			};
		}
	}
	routing->nr = n;
	return vm_ioctl(vm, KVM_SET_GSI_ROUTING, routing, "route interrupts", error);
}

static void kvm_vm_destroy(void *opaque)
{
	struct kvm_vm *vm = opaque;

	if (!vm)
		return;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	g_free(vm->supported_cpuid);
	g_mutex_clear(&vm->device_ram_lock);
	g_free(vm);
}

/*
 * Moves the slot of device memory `index` to where env->mem says it is now.
 * Video memory logs dirty pages, so the display repaints only what changed.
 */
static bool kvm_map_device_ram(struct kvm_vm *vm, unsigned int index, GError **error)
{
	const struct guest_memory_device_ram *d = &vm->env.mem->device_ram[index];
	uint64_t addr = guest_memory_device_ram_addr(vm->env.mem, index);
	struct kvm_userspace_memory_region region = { .slot = KVM_DEVICE_RAM_SLOT(index) };
	bool ok = true;

	g_mutex_lock(&vm->device_ram_lock);
	if (addr != vm->device_ram_slot_addr[index]) {
		/* A slot cannot move: delete it (size 0), then create it anew. */
		if (vm->device_ram_slot_addr[index] != GUEST_MEMORY_UNMAPPED)
			ok = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "unmap video memory", error);
		vm->device_ram_slot_addr[index] = GUEST_MEMORY_UNMAPPED;
		if (ok && addr != GUEST_MEMORY_UNMAPPED) {
			region.flags = KVM_MEM_LOG_DIRTY_PAGES;
			region.guest_phys_addr = addr;
			region.memory_size = d->size_bytes;
			region.userspace_addr = (uintptr_t)d->host;
			ok = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "map video memory", error);
			if (ok)
				vm->device_ram_slot_addr[index] = addr;
		}
	}
	g_mutex_unlock(&vm->device_ram_lock);
	return ok;
}

static void kvm_device_ram_changed(void *opaque, unsigned int index)
{
	GError *error = NULL;

	if (!kvm_map_device_ram(opaque, index, &error)) {
		log_warning("%s", error->message);
		g_error_free(error);
	}
}

static bool kvm_device_ram_dirty(void *opaque, unsigned int index, uint64_t *bitmap)
{
	struct kvm_vm *vm = opaque;
	struct kvm_dirty_log log = { .slot = KVM_DEVICE_RAM_SLOT(index), .dirty_bitmap = bitmap };
	bool ok = true;

	g_mutex_lock(&vm->device_ram_lock);
	/* Not mapped: the guest cannot have written it. */
	if (vm->device_ram_slot_addr[index] != GUEST_MEMORY_UNMAPPED)
		ok = ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) == 0;
	g_mutex_unlock(&vm->device_ram_lock);
	return ok;
}

static void *kvm_vm_create(const struct accel_env *env, GError **error)
{
	struct kvm_vm *vm = g_new0(struct kvm_vm, 1);
	const struct guest_memory *mem = env->mem;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity_map = LAYOUT_KVM_IDENTITY_MAP_ADDR;
	int max_vcpus;

	vm->env = *env;
	vm->vm_fd = -1;
	g_mutex_init(&vm->device_ram_lock);
	for (unsigned int i = 0; i < GUEST_MEMORY_MAX_DEVICE_RAM; i++)
		vm->device_ram_slot_addr[i] = GUEST_MEMORY_UNMAPPED;
	if (!open_kvm(&vm->kvm_fd, error))
		goto fail_no_fd;
	if (!check_capabilities(vm->kvm_fd, error))
		goto fail;
	max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus > 0 && env->nr_cpus > (unsigned int)max_vcpus) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "KVM on this computer runs at most %d vCPUs per machine; use --cpus %d or fewer",
			    max_vcpus, max_vcpus);
		goto fail;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    "KVM did not report its vCPU area size: %s", g_strerror(errno));
		goto fail;
	}
	vm->tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	vm->supported_cpuid = get_supported_cpuid(vm->kvm_fd, error);
	if (!vm->supported_cpuid)
		goto fail;

	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		int err = errno;

		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    "KVM could not create a virtual machine: %s%s", g_strerror(err),
			    err == EBUSY ? " (another hypervisor, such as VirtualBox, may be using the processor's virtualization)" : "");
		goto fail;
	}
	/* Intel needs both areas for real-mode emulation; AMD ignores them. */
	if (!vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity_map, "place its identity map", error) ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS_ADDR) < 0) {
		if (error && !*error)
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
				    "KVM could not place its TSS: %s", g_strerror(errno));
		goto fail;
	}
	if (!vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL, "create the interrupt controllers", error) ||
	    !vm_ioctl(vm, KVM_CREATE_PIT2, &pit, "create the timer (PIT)", error))
		goto fail;

	if (!set_pc_irq_routing(vm, error))
		goto fail;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = mem->regions[i].guest_phys_addr,
			.memory_size = mem->regions[i].size_bytes,
			.userspace_addr = (uintptr_t)mem->regions[i].host,
		};

		if (!vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "map guest memory", error))
			goto fail;
	}
	for (unsigned int i = 0; i < mem->nr_device_ram; i++)
		if (!kvm_map_device_ram(vm, i, error))
			goto fail;
	install_kick_handler();
	return vm;

fail:
	kvm_vm_destroy(vm);
	return NULL;
fail_no_fd:
	vm->kvm_fd = -1;
	kvm_vm_destroy(vm);
	return NULL;
}

static void kvm_vcpu_destroy(void *opaque)
{
	struct kvm_vcpu *cpu = opaque;

	if (!cpu)
		return;
	if (thread_kvm_run == cpu->run)
		thread_kvm_run = NULL;
	if (cpu->run)
		munmap(cpu->run, (size_t)cpu->vm->run_size);
	if (cpu->fd >= 0)
		close(cpu->fd);
	g_free(cpu);
}

static void *kvm_vcpu_create(void *vm_opaque, struct vcpu *vcpu, GError **error)
{
	struct kvm_vm *vm = vm_opaque;
	struct kvm_vcpu *cpu = g_new0(struct kvm_vcpu, 1);
	size_t cpuid_size = sizeof(struct kvm_cpuid2) +
			    vm->supported_cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	g_autofree struct kvm_cpuid2 *cpuid = g_memdup2(vm->supported_cpuid, cpuid_size);
	sigset_t kick;

	cpu->vm = vm;
	cpu->vcpu = vcpu;
	cpu->thread = pthread_self();
	cpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)vcpu->index);
	if (cpu->fd < 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    "KVM could not create vCPU %u: %s", vcpu->index, g_strerror(errno));
		goto fail;
	}
	cpu->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
	if (cpu->run == MAP_FAILED) {
		cpu->run = NULL;
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    "cannot map the KVM area of vCPU %u: %s", vcpu->index, g_strerror(errno));
		goto fail;
	}
	kvm_cpuid_filter(cpuid, vcpu->index, vm->env.nr_cpus, vm->tsc_deadline);
	if (ioctl(cpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    "KVM refused the CPUID of vCPU %u: %s", vcpu->index, g_strerror(errno));
		goto fail;
	}
	thread_kvm_run = cpu->run;
	sigemptyset(&kick);
	sigaddset(&kick, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	return cpu;

fail:
	kvm_vcpu_destroy(cpu);
	return NULL;
}

static void to_kvm_segment(struct kvm_segment *k, const struct x86_segment *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector, .type = s->type,
		.present = s->present, .dpl = s->dpl, .db = s->db, .s = s->s, .l = s->l,
		.g = s->g, .avl = s->avl, .unusable = s->unusable,
	};
}

static struct x86_segment from_kvm_segment(const struct kvm_segment *k)
{
	return (struct x86_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector, .type = k->type,
		.present = k->present, .dpl = k->dpl, .db = k->db, .s = k->s, .l = k->l,
		.g = k->g, .avl = k->avl, .unusable = k->unusable,
	};
}

/* The MSRs of struct x86_msrs, in its field order (Intel SDM Vol. 4). */
static const uint32_t state_msr_index[] = {
	0xc0000081,	/* STAR */
	0xc0000082,	/* LSTAR */
	0xc0000083,	/* CSTAR */
	0xc0000084,	/* SFMASK */
	0xc0000102,	/* KERNEL_GS_BASE */
	0x00000174,	/* SYSENTER_CS */
	0x00000175,	/* SYSENTER_ESP */
	0x00000176,	/* SYSENTER_EIP */
	0xc0000103,	/* TSC_AUX */
	0x00000277,	/* PAT */
};
#define NR_STATE_MSRS G_N_ELEMENTS(state_msr_index)
G_STATIC_ASSERT(sizeof(struct x86_msrs) == NR_STATE_MSRS * sizeof(uint64_t));

struct kvm_state_msrs {
	struct kvm_msrs header;
	struct kvm_msr_entry entries[NR_STATE_MSRS];
};

static void gprs_to_kvm(struct kvm_regs *regs, const struct x86_cpu_state *state)
{
	*regs = (struct kvm_regs){
		.rax = state->gpr[X86_RAX], .rbx = state->gpr[X86_RBX], .rcx = state->gpr[X86_RCX],
		.rdx = state->gpr[X86_RDX], .rsi = state->gpr[X86_RSI], .rdi = state->gpr[X86_RDI],
		.rsp = state->gpr[X86_RSP], .rbp = state->gpr[X86_RBP], .r8 = state->gpr[X86_R8],
		.r9 = state->gpr[X86_R9], .r10 = state->gpr[X86_R10], .r11 = state->gpr[X86_R11],
		.r12 = state->gpr[X86_R12], .r13 = state->gpr[X86_R13], .r14 = state->gpr[X86_R14],
		.r15 = state->gpr[X86_R15], .rip = state->rip, .rflags = state->rflags,
	};
}

static void gprs_from_kvm(struct x86_cpu_state *state, const struct kvm_regs *regs)
{
	uint64_t gpr[X86_NR_GPRS] = {
		[X86_RAX] = regs->rax, [X86_RCX] = regs->rcx, [X86_RDX] = regs->rdx,
		[X86_RBX] = regs->rbx, [X86_RSP] = regs->rsp, [X86_RBP] = regs->rbp,
		[X86_RSI] = regs->rsi, [X86_RDI] = regs->rdi, [X86_R8] = regs->r8,
		[X86_R9] = regs->r9, [X86_R10] = regs->r10, [X86_R11] = regs->r11,
		[X86_R12] = regs->r12, [X86_R13] = regs->r13, [X86_R14] = regs->r14,
		[X86_R15] = regs->r15,
	};

	memcpy(state->gpr, gpr, sizeof(gpr));
	state->rip = regs->rip;
	state->rflags = regs->rflags;
}

static void fpu_to_kvm(struct kvm_fpu *fpu, const struct x86_fxsave *fx)
{
	memset(fpu, 0, sizeof(*fpu));
	memcpy(fpu->fpr, fx->st, sizeof(fpu->fpr));
	fpu->fcw = fx->fcw;
	fpu->fsw = fx->fsw;
	fpu->ftwx = fx->ftw;
	fpu->last_opcode = fx->fop;
	fpu->last_ip = fx->fip;
	fpu->last_dp = fx->fdp;
	memcpy(fpu->xmm, fx->xmm, sizeof(fpu->xmm));
	fpu->mxcsr = fx->mxcsr;
}

static void fpu_from_kvm(struct x86_fxsave *fx, const struct kvm_fpu *fpu)
{
	memset(fx, 0, sizeof(*fx));
	memcpy(fx->st, fpu->fpr, sizeof(fx->st));
	fx->fcw = fpu->fcw;
	fx->fsw = fpu->fsw;
	fx->ftw = fpu->ftwx;
	fx->fop = fpu->last_opcode;
	fx->fip = fpu->last_ip;
	fx->fdp = fpu->last_dp;
	memcpy(fx->xmm, fpu->xmm, sizeof(fx->xmm));
	fx->mxcsr = fpu->mxcsr;
	fx->mxcsr_mask = 0xffff;
}

static bool kvm_vcpu_set_state(void *opaque, const struct x86_cpu_state *state, GError **error)
{
	struct kvm_vcpu *cpu = opaque;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	struct kvm_state_msrs msrs = { .header.nmsrs = NR_STATE_MSRS };
	const uint64_t *msr_values = (const uint64_t *)&state->msr;

	gprs_to_kvm(&regs, state);
	fpu_to_kvm(&fpu, &state->fpu);
	for (unsigned int i = 0; i < NR_STATE_MSRS; i++)
		msrs.entries[i] = (struct kvm_msr_entry){ .index = state_msr_index[i], .data = msr_values[i] };

	/* Start from KVM's own values so fields we do not model (APIC base) stay. */
	if (ioctl(cpu->fd, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	to_kvm_segment(&sregs.cs, &state->cs);
	to_kvm_segment(&sregs.ds, &state->ds);
	to_kvm_segment(&sregs.es, &state->es);
	to_kvm_segment(&sregs.fs, &state->fs);
	to_kvm_segment(&sregs.gs, &state->gs);
	to_kvm_segment(&sregs.ss, &state->ss);
	to_kvm_segment(&sregs.tr, &state->tr);
	to_kvm_segment(&sregs.ldt, &state->ldt);
	sregs.gdt = (struct kvm_dtable){ .base = state->gdt.base, .limit = state->gdt.limit };
	sregs.idt = (struct kvm_dtable){ .base = state->idt.base, .limit = state->idt.limit };
	sregs.cr0 = state->cr0;
	sregs.cr2 = state->cr2;
	sregs.cr3 = state->cr3;
	sregs.cr4 = state->cr4;
	sregs.cr8 = state->cr8;
	sregs.efer = state->efer;
	if (ioctl(cpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(cpu->fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(cpu->fd, KVM_SET_FPU, &fpu) < 0)
		goto fail;
	if (ioctl(cpu->fd, KVM_SET_MSRS, &msrs) != (int)NR_STATE_MSRS) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "KVM refused the MSRs of vCPU %u", cpu->vcpu->index);
		return false;
	}
	return true;
fail:
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
		    "KVM refused the state of vCPU %u: %s", cpu->vcpu->index, g_strerror(errno));
	return false;
}

static bool kvm_vcpu_get_state(void *opaque, struct x86_cpu_state *state, GError **error)
{
	struct kvm_vcpu *cpu = opaque;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	struct kvm_state_msrs msrs = { .header.nmsrs = NR_STATE_MSRS };
	uint64_t *msr_values = (uint64_t *)&state->msr;

	for (unsigned int i = 0; i < NR_STATE_MSRS; i++)
		msrs.entries[i].index = state_msr_index[i];
	if (ioctl(cpu->fd, KVM_GET_REGS, &regs) < 0 || ioctl(cpu->fd, KVM_GET_SREGS, &sregs) < 0 ||
	    ioctl(cpu->fd, KVM_GET_FPU, &fpu) < 0 ||
	    ioctl(cpu->fd, KVM_GET_MSRS, &msrs) != (int)NR_STATE_MSRS) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "cannot read the state of vCPU %u from KVM: %s", cpu->vcpu->index,
			    g_strerror(errno));
		return false;
	}
	memset(state, 0, sizeof(*state));
	gprs_from_kvm(state, &regs);
	state->cs = from_kvm_segment(&sregs.cs);
	state->ds = from_kvm_segment(&sregs.ds);
	state->es = from_kvm_segment(&sregs.es);
	state->fs = from_kvm_segment(&sregs.fs);
	state->gs = from_kvm_segment(&sregs.gs);
	state->ss = from_kvm_segment(&sregs.ss);
	state->tr = from_kvm_segment(&sregs.tr);
	state->ldt = from_kvm_segment(&sregs.ldt);
	state->gdt = (struct x86_table_register){ sregs.gdt.base, sregs.gdt.limit };
	state->idt = (struct x86_table_register){ sregs.idt.base, sregs.idt.limit };
	state->cr0 = sregs.cr0;
	state->cr2 = sregs.cr2;
	state->cr3 = sregs.cr3;
	state->cr4 = sregs.cr4;
	state->cr8 = sregs.cr8;
	state->efer = sregs.efer;
	fpu_from_kvm(&state->fpu, &fpu);
	for (unsigned int i = 0; i < NR_STATE_MSRS; i++)
		msr_values[i] = msrs.entries[i].data;
	return true;
}

static void handle_io(struct kvm_vcpu *cpu)
{
	struct kvm_run *run = cpu->run;
	struct bus *pio = cpu->vm->env.pio;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int size = run->io.size;

	/* count > 1 for string I/O (REP INS/OUTS): consecutive data items. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t value;

		if (run->io.direction == KVM_EXIT_IO_OUT) {
			if (!bus_write(pio, run->io.port, size, bus_value_from_bytes(data, size)))
				log_debug("guest wrote unclaimed port 0x%x", run->io.port);
		} else {
			if (!bus_read(pio, run->io.port, size, &value))
				log_debug("guest read unclaimed port 0x%x", run->io.port);
			bus_value_to_bytes(value, data, size);
		}
	}
}

static void handle_mmio(struct kvm_vcpu *cpu)
{
	struct kvm_run *run = cpu->run;
	struct bus *mmio = cpu->vm->env.mmio;
	unsigned int len = run->mmio.len;
	uint64_t value;

	if (len == 0 || len > 8)
		return;
	if (run->mmio.is_write) {
		if (!bus_write(mmio, run->mmio.phys_addr, len, bus_value_from_bytes(run->mmio.data, len)))
			log_guest_once("guest wrote %u bytes to unassigned address 0x%llx", len,
				       (unsigned long long)run->mmio.phys_addr);
	} else {
		if (!bus_read(mmio, run->mmio.phys_addr, len, &value))
			log_guest_once("guest read %u bytes from unassigned address 0x%llx", len,
				       (unsigned long long)run->mmio.phys_addr);
		bus_value_to_bytes(value, run->mmio.data, len);
	}
}

static uint64_t guest_rip(struct kvm_vcpu *cpu)
{
	struct kvm_regs regs;

	return ioctl(cpu->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

static enum vcpu_exit kvm_vcpu_run(void *opaque, GError **error)
{
	struct kvm_vcpu *cpu = opaque;
	struct kvm_run *run = cpu->run;

	for (;;) {
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			/*
			 * Clear before the caller re-checks its request flags: a
			 * kick arriving after this point sets it again.
			 */
			run->immediate_exit = 0;
			if (err == EINTR || err == EAGAIN)
				return VCPU_EXIT_KICKED;
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "vCPU %u: KVM_RUN failed: %s", cpu->vcpu->index, g_strerror(err));
			return VCPU_EXIT_ERROR;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(cpu);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(cpu);
			break;
		case KVM_EXIT_INTR:
			run->immediate_exit = 0;
			return VCPU_EXIT_KICKED;
		case KVM_EXIT_SHUTDOWN:
			/* A triple fault: the processor asserts its shutdown cycle. */
			log_info("vCPU %u triple-faulted at RIP 0x%llx: resetting the machine",
				 cpu->vcpu->index, (unsigned long long)guest_rip(cpu));
			return VCPU_EXIT_RESET;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				return VCPU_EXIT_RESET;
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "vCPU %u: unexpected KVM system event %u", cpu->vcpu->index,
				    run->system_event.type);
			return VCPU_EXIT_ERROR;
		case KVM_EXIT_INTERNAL_ERROR:
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "vCPU %u stopped at RIP 0x%llx: KVM could not emulate what the guest did (internal error, suberror %u)",
				    cpu->vcpu->index, (unsigned long long)guest_rip(cpu),
				    run->internal.suberror);
			return VCPU_EXIT_ERROR;
		case KVM_EXIT_FAIL_ENTRY:
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "vCPU %u: the processor refused to enter the guest (reason 0x%llx)",
				    cpu->vcpu->index,
				    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return VCPU_EXIT_ERROR;
		default:
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "vCPU %u: unexpected KVM exit reason %u", cpu->vcpu->index,
				    run->exit_reason);
			return VCPU_EXIT_ERROR;
		}
	}
}

static void kvm_vcpu_kick(void *opaque)
{
	struct kvm_vcpu *cpu = opaque;

	pthread_kill(cpu->thread, KVM_KICK_SIGNAL);
}

static void kvm_set_irq(void *opaque, unsigned int gsi, bool level)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_guest_once("KVM_IRQ_LINE %u failed: %s", gsi, g_strerror(errno));
}

const struct accel_ops kvm_accel_ops = {
	.name = "kvm",
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_set_state = kvm_vcpu_set_state,
	.vcpu_get_state = kvm_vcpu_get_state,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.set_irq = kvm_set_irq,
	.device_ram_changed = kvm_device_ram_changed,
	.device_ram_dirty = kvm_device_ram_dirty,
};
