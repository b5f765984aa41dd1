/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Write tracking of video memory for the display: the software CPU's
 * counterpart of KVM's dirty log.  Each page of mapped device memory starts
 * with PAGE_WRITE_TRACKED, so the first write to it takes the slow path,
 * which sets its dirty bit and clears the flag; later writes run at full
 * speed until the display collects the bits and the flags are set again.
 * An idle screen therefore costs nothing, a busy one one slow write per
 * page per refresh.
 */
#include "cpu.h"
#include "vm.h"

static void set_page_flags(struct tcg_vm *vm, uint64_t addr, uint64_t size_bytes, bool tracked)
{
	for (uint64_t pfn = addr >> 12; pfn < (addr + size_bytes) >> 12 && pfn < vm->nr_pages; pfn++) {
		if (tracked)
			__atomic_or_fetch(&vm->code_pages[pfn], PAGE_WRITE_TRACKED, __ATOMIC_SEQ_CST);
		else
			__atomic_and_fetch(&vm->code_pages[pfn], (uint8_t)~PAGE_WRITE_TRACKED,
					   __ATOMIC_SEQ_CST);
	}
}

void tcg_device_ram_written(struct tcg_vm *vm, uint64_t phys)
{
	const struct guest_memory *mem = vm->env.mem;

	for (unsigned int i = 0; i < mem->nr_device_ram; i++) {
		uint64_t base = __atomic_load_n(&vm->device_ram_addr[i], __ATOMIC_ACQUIRE);

		if (base != GUEST_MEMORY_UNMAPPED && phys >= base &&
		    phys - base < mem->device_ram[i].size_bytes) {
			uint64_t page = (phys - base) >> 12;

			__atomic_or_fetch(&vm->device_ram_dirty[i][page / 64], 1ULL << (page % 64),
					  __ATOMIC_SEQ_CST);
			return;
		}
	}
}

void tcg_device_ram_changed(void *opaque, unsigned int index)
{
	struct tcg_vm *vm = opaque;
	const struct guest_memory *mem = vm->env.mem;
	uint64_t size = mem->device_ram[index].size_bytes;
	uint64_t addr = guest_memory_device_ram_addr(mem, index);

	g_mutex_lock(&vm->device_ram_lock);
	if (vm->device_ram_addr[index] != GUEST_MEMORY_UNMAPPED)
		set_page_flags(vm, vm->device_ram_addr[index], size, false);
	__atomic_store_n(&vm->device_ram_addr[index], addr, __ATOMIC_RELEASE);
	if (addr != GUEST_MEMORY_UNMAPPED)
		set_page_flags(vm, addr, size, true);
	g_mutex_unlock(&vm->device_ram_lock);

	/* TLB entries still point at the old place: every vCPU drops them. */
	g_mutex_lock(&vm->cpus_lock);
	for (unsigned int i = 0; i < G_N_ELEMENTS(vm->cpus); i++) {
		struct tcg_cpu *cpu = vm->cpus[i];

		if (cpu) {
			__atomic_store_n(&cpu->tlb_flush_request, 1, __ATOMIC_SEQ_CST);
			__atomic_store_n(&cpu->interrupt_request, 1, __ATOMIC_SEQ_CST);
			__atomic_store_n(&cpu->exit_request, 1, __ATOMIC_SEQ_CST);
		}
	}
	g_mutex_unlock(&vm->cpus_lock);
}

/* Tracks the pages of one bitmap word again (mapped device memory only). */
static void track_again(struct tcg_vm *vm, unsigned int index, uint64_t word, uint64_t bits)
{
	uint64_t base = vm->device_ram_addr[index];

	if (base == GUEST_MEMORY_UNMAPPED)
		return;
	for (; bits; bits &= bits - 1)
		set_page_flags(vm, base + ((word * 64 + (uint64_t)__builtin_ctzll(bits)) << 12), 4096, true);
}

bool tcg_device_ram_dirty(void *opaque, unsigned int index, uint64_t *bitmap)
{
	struct tcg_vm *vm = opaque;
	const struct guest_memory *mem = vm->env.mem;
	uint64_t pages = mem->device_ram[index].size_bytes >> 12;
	uint64_t *dirty = vm->device_ram_dirty[index];

	g_mutex_lock(&vm->device_ram_lock);
	for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
		uint64_t seen = __atomic_load_n(&dirty[w], __ATOMIC_SEQ_CST), taken;

		if (!seen)
			continue;
		/*
		 * Track again before taking the bits: a write landing in
		 * between is then either taken now or noted for next time.
		 */
		track_again(vm, index, w, seen);
		taken = __atomic_exchange_n(&dirty[w], 0, __ATOMIC_SEQ_CST);
		track_again(vm, index, w, taken & ~seen);
		bitmap[w] |= taken;
	}
	g_mutex_unlock(&vm->device_ram_lock);
	return true;
}
