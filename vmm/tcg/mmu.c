/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address translation (Intel SDM Vol. 3A ch. 4): no paging, 32-bit paging,
 * PAE and 4-level paging with 2 MiB / 4 MiB / 1 GiB pages, NX, accessed and
 * dirty bits, global pages; the software TLB in front of it; and the slow
 * paths of memory access (page-crossing, MMIO, writes to decoded code).
 */
#include "cpu.h"

#include "apic.h"
#include "log.h"
#include "vm.h"

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define PTE_G		(1ULL << 8)
#define PTE_NX		(1ULL << 63)
#define PHYS_ADDR_BITS	40	/* CPUID 0x80000008 reports this */
#define PTE_ADDR_MASK	(((1ULL << PHYS_ADDR_BITS) - 1) & ~0xfffULL)
#define PTE_RSVD_HIGH	(((1ULL << 52) - 1) & ~((1ULL << PHYS_ADDR_BITS) - 1))

#define CR0_WP		(1ULL << 16)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_PGE		(1ULL << 7)
#define EFER_NXE	(1ULL << 11)

struct walk {
	uint64_t phys;		/* translated address */
	uint64_t page_phys;	/* 4 KiB page containing it */
	bool writable, user, executable, dirty, global;
};

/* Physical memory read (page walks, the decoder): RAM directly, anything else through the bus. */
uint64_t phys_read(struct tcg_cpu *cpu, uint64_t phys, unsigned int size)
{
	void *p = guest_memory_ptr(cpu->mem, phys, size);
	uint64_t v;

	if (p)
		return load_host(p, size);
	bus_read(cpu->mmio, phys, size, &v);
	return v;
}


/* Sets bits in a paging-structure entry as the processor does: atomically. */
static void pte_set_bits(struct tcg_cpu *cpu, uint64_t pte_phys, unsigned int size, uint64_t bits)
{
	void *p = guest_memory_ptr(cpu->mem, pte_phys, size);

	if (!p)
		return;
	if (size == 8)
		__atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or((uint32_t *)p, (uint32_t)bits, __ATOMIC_SEQ_CST);
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Error code of a page fault for this access (Vol. 3A §4.7). */
static uint32_t pf_error(enum access access, bool user, bool present, bool reserved)
{
	uint32_t e = 0;

	if (present)
		e |= PFEC_P;
	if (access == ACCESS_WRITE)
		e |= PFEC_W;
	if (user)
		e |= PFEC_U;
	if (reserved)
		e |= PFEC_RSVD | PFEC_P;
	if (access == ACCESS_EXEC)
		e |= PFEC_I;
	return e;
}

/*
 * Walks the paging structures for linear.  On a fault returns false with the
 * error code; otherwise fills w and sets accessed (and for writes dirty) bits.
 */
static bool page_walk(struct tcg_cpu *cpu, uint64_t linear, enum access access, bool user,
		      struct walk *w, uint32_t *error)
{
	bool nx_enabled = (cpu->efer & EFER_NXE) != 0;
	bool writable = true, user_ok = true, executable = true;
	uint64_t entry = 0, entry_phys = 0, page_size, table;
	unsigned int entry_size = 8;
	int level;

	if (!cpu->paging) {
		uint64_t phys = cpu->long_mode ? linear : linear & 0xffffffff;

		*w = (struct walk){ .phys = phys, .page_phys = phys & ~0xfffULL, .writable = true,
				    .user = true, .executable = true, .dirty = true };
		return true;
	}

	if (cpu->long_mode) {
		table = cpu->cr3 & PTE_ADDR_MASK;
		level = 4;
	} else if (cpu->cr4 & CR4_PAE) {
		/* PDPTE: bits 31:30 of the address (Vol. 3A §4.4.1). */
		entry_phys = (cpu->cr3 & 0xffffffe0) + ((linear >> 30) & 3) * 8;
		entry = phys_read(cpu, entry_phys, 8);
		if (!(entry & PTE_P)) {
			*error = pf_error(access, user, false, false);
			return false;
		}
		table = entry & PTE_ADDR_MASK;
		level = 2;
	} else {
		table = cpu->cr3 & 0xfffff000;
		level = 2;
		entry_size = 4;
	}

	for (;; level--) {
		unsigned int shift = entry_size == 4 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
		unsigned int index_mask = entry_size == 4 ? 0x3ff : 0x1ff;

		entry_phys = table + ((linear >> shift) & index_mask) * entry_size;
		entry = phys_read(cpu, entry_phys, entry_size);
		if (!(entry & PTE_P)) {
			*error = pf_error(access, user, false, false);
			return false;
		}
		if (entry_size == 8 && ((entry & PTE_RSVD_HIGH) || (!nx_enabled && (entry & PTE_NX)) ||
					(level == 4 && (entry & PTE_PS)))) {
			*error = pf_error(access, user, true, true);
			return false;
		}
		writable &= (entry & PTE_W) != 0;
		user_ok &= (entry & PTE_U) != 0;
		if (entry_size == 8 && (entry & PTE_NX))
			executable = false;
		if (!(entry & PTE_A))
			pte_set_bits(cpu, entry_phys, entry_size, PTE_A);

		bool large = (entry & PTE_PS) && (level == 2 || (level == 3 && entry_size == 8));

		if (entry_size == 4 && level == 2 && !(cpu->cr4 & CR4_PSE))
			large = false;
		if (level == 1 || large) {
			page_size = 1ULL << shift;
			if (entry_size == 4 && large) {
				/* 4 MiB page: bits 20:13 are address bits 39:32 (PSE-36). */
				table = (entry & 0xffc00000) | ((entry & 0x1fe000) << 19);
			} else {
				table = entry & PTE_ADDR_MASK & ~(page_size - 1);
			}
			break;
		}
		table = entry & PTE_ADDR_MASK;
	}

	/* Permission checks (Vol. 3A §4.6). */
	if (user && !user_ok)
		goto protection;
	if (access == ACCESS_WRITE && !writable && (user || (cpu->cr0 & CR0_WP)))
		goto protection;
	if (access == ACCESS_EXEC && !executable)
		goto protection;

	if (access == ACCESS_WRITE && !(entry & PTE_D)) {
		pte_set_bits(cpu, entry_phys, entry_size, PTE_D);
		entry |= PTE_D;
	}
	w->phys = table + (linear & (page_size - 1));
	w->page_phys = w->phys & ~0xfffULL;
	w->writable = writable || (!user && !(cpu->cr0 & CR0_WP));
	w->user = user_ok;
	w->executable = executable;
	w->dirty = (entry & PTE_D) != 0;
	w->global = (entry & PTE_G) && (cpu->cr4 & CR4_PGE);
	return true;

protection:
	*error = pf_error(access, user, true, false);
	return false;
}

static __attribute__((noreturn)) void raise_page_fault(struct tcg_cpu *cpu, uint64_t linear,
						       uint32_t error)
{
	cpu->cr2 = linear;
	cpu_raise(cpu, EXC_PF, error);
}

uint64_t mmu_translate(struct tcg_cpu *cpu, uint64_t linear, enum access access, bool user)
{
	struct walk w;
	uint32_t error;

	if (cpu->long_mode && !canonical(linear))
		cpu_raise_gp0(cpu);
	if (!page_walk(cpu, linear, access, user, &w, &error))
		raise_page_fault(cpu, linear, error);
	return w.phys;
}

void tlb_flush(struct tcg_cpu *cpu, bool include_global)
{
	for (unsigned int set = 0; set < 2; set++) {
		for (unsigned int i = 0; i < TLB_SIZE; i++) {
			struct tlb_entry *e = &cpu->tlb_sets[set][i];

			if (!include_global && e->global)
				continue;
			e->read_tag = e->write_tag = e->exec_tag = e->io_tag = TLB_INVALID;
			e->global = false;
		}
	}
	cpu->tlb_generation++;
}

void tlb_flush_page(struct tcg_cpu *cpu, uint64_t linear)
{
	uint64_t page = linear & ~0xfffULL;

	for (unsigned int set = 0; set < 2; set++) {
		struct tlb_entry *e = &cpu->tlb_sets[set][(linear >> 12) & (TLB_SIZE - 1)];

		if (e->read_tag == page || e->write_tag == page || e->exec_tag == page || e->io_tag == page) {
			e->read_tag = e->write_tag = e->exec_tag = e->io_tag = TLB_INVALID;
			e->global = false;
		}
	}
	cpu->tlb_generation++;
}

/*
 * The TLB set of the current privilege class.  cpu->tlb is the same set,
 * except while alignment checking is on: then it is an always-missing set so
 * every access reaches these slow paths, which check alignment.
 */
static struct tlb_entry *tlb_entry(struct tcg_cpu *cpu, uint64_t linear)
{
	return &cpu->tlb_sets[cpu->cpl == 3][(linear >> 12) & (TLB_SIZE - 1)];
}

static void check_alignment(struct tcg_cpu *cpu, uint64_t linear, unsigned int size)
{
	/* #AC: CPL 3, CR0.AM and RFLAGS.AC, a misaligned data access (Vol. 3A §6.15). */
	if (unlikely(cpu->alignment_check) && size > 1 && (linear & (size - 1)))
		cpu_raise(cpu, EXC_AC, 0);
}

/* Fills the TLB entry for linear's page after a successful walk. */
static void tlb_fill(struct tcg_cpu *cpu, uint64_t linear, const struct walk *w)
{
	uint64_t page = linear & ~0xfffULL;
	struct tlb_entry *e = tlb_entry(cpu, linear);
	uint8_t *host = guest_memory_ptr(cpu->mem, w->page_phys, 4096);
	bool user = cpu->cpl == 3;

	e->read_tag = e->write_tag = e->exec_tag = e->io_tag = TLB_INVALID;
	e->phys_page = w->page_phys;
	e->global = w->global;
	if (!host) {
		e->io_tag = page;
		e->io_prot = (uint8_t)(PROT_R | (w->writable && w->dirty ? PROT_W : 0));
		return;
	}
	e->addend = (uintptr_t)host - page;
	if (!user || w->user) {
		e->read_tag = page;
		if (w->writable && w->dirty)
			e->write_tag = page;
		if (w->executable)
			e->exec_tag = page;
	}
}

static struct walk translate_fill(struct tcg_cpu *cpu, uint64_t linear, enum access access)
{
	struct walk w;
	uint32_t error;

	if (cpu->long_mode && !canonical(linear))
		cpu_raise_gp0(cpu);
	if (!cpu->long_mode)
		linear &= 0xffffffff;
	if (!page_walk(cpu, linear, access, cpu->cpl == 3, &w, &error))
		raise_page_fault(cpu, linear, error);
	tlb_fill(cpu, linear, &w);
	return w;
}

/* MMIO at a physical address: this CPU's local APIC first, then the bus. */
static uint64_t mmio_read(struct tcg_cpu *cpu, uint64_t phys, unsigned int size)
{
	uint64_t apic = cpu->lapic ? lapic_base_address(cpu->lapic) : 0;
	uint64_t v;

	if (apic && phys >= apic && phys < apic + 0x1000)
		return lapic_mmio_read(cpu->lapic, (uint32_t)(phys - apic) & ~3u);
	bus_read(cpu->mmio, phys, size, &v);
	return v;
}

static void mmio_write(struct tcg_cpu *cpu, uint64_t phys, unsigned int size, uint64_t value)
{
	uint64_t apic = cpu->lapic ? lapic_base_address(cpu->lapic) : 0;

	if (apic && phys >= apic && phys < apic + 0x1000) {
		lapic_mmio_write(cpu->lapic, (uint32_t)(phys - apic) & ~3u, (uint32_t)value);
		/* An EOI or IPI may make something deliverable: look at once. */
		cpu->exit_request = 1;
		return;
	}
	bus_write(cpu->mmio, phys, size, value);
	cpu->exit_request = 1;	/* a device may have raised an interrupt */
}

/* One access inside one page. */
static uint64_t read_in_page(struct tcg_cpu *cpu, uint64_t linear, unsigned int size)
{
	struct tlb_entry *e = tlb_entry(cpu, linear);
	uint64_t page = linear & ~0xfffULL;

	if (e->read_tag == page)
		return load_host((const void *)(uintptr_t)(linear + e->addend), size);
	if (e->io_tag == page && (e->io_prot & PROT_R))
		return mmio_read(cpu, e->phys_page | (linear & 0xfff), size);
	struct walk w = translate_fill(cpu, linear, ACCESS_READ);

	if (e->read_tag == page)
		return load_host((const void *)(uintptr_t)(linear + e->addend), size);
	return mmio_read(cpu, w.phys, size);
}

uint64_t mem_read_slow(struct tcg_cpu *cpu, uint64_t linear, unsigned int size)
{
	if (!cpu->long_mode)
		linear &= 0xffffffff;
	check_alignment(cpu, linear, size);
	if ((linear & 0xfff) + size > 0x1000) {
		/* Crossing a page: byte by byte (each part translated separately). */
		uint64_t v = 0;

		for (unsigned int i = 0; i < size; i++) {
			uint64_t a = linear + i;

			if (!cpu->long_mode)
				a &= 0xffffffff;
			v |= read_in_page(cpu, a, 1) << (8 * i);
		}
		return v;
	}
	return read_in_page(cpu, linear, size);
}

/* Translates for a write and returns the physical address (fills the TLB). */
static uint64_t write_translate(struct tcg_cpu *cpu, uint64_t linear)
{
	struct tlb_entry *e = tlb_entry(cpu, linear);
	uint64_t page = linear & ~0xfffULL;

	if (e->write_tag == page)
		return e->phys_page | (linear & 0xfff);
	if (e->io_tag == page && (e->io_prot & PROT_W))
		return e->phys_page | (linear & 0xfff);
	return translate_fill(cpu, linear, ACCESS_WRITE).phys;
}

/* Physical memory write: RAM (invalidating decoded code), the local APIC, or the bus. */
void phys_write(struct tcg_cpu *cpu, uint64_t phys, unsigned int size, uint64_t value)
{
	void *p = guest_memory_ptr(cpu->mem, phys, size);

	if (p) {
		if (unlikely(cpu->code_pages[phys >> 12]))
			tracked_page_written(cpu, phys);
		store_host(p, size, value);
		return;
	}
	mmio_write(cpu, phys, size, value);
}

void mem_write_slow(struct tcg_cpu *cpu, uint64_t linear, unsigned int size, uint64_t value)
{
	if (!cpu->long_mode)
		linear &= 0xffffffff;
	check_alignment(cpu, linear, size);
	if ((linear & 0xfff) + size > 0x1000) {
		/* Both pages must be writable before either is written. */
		unsigned int first = 0x1000 - (unsigned int)(linear & 0xfff);
		uint64_t second_linear = linear + first;

		if (!cpu->long_mode)
			second_linear &= 0xffffffff;
		uint64_t p1 = write_translate(cpu, linear);
		uint64_t p2 = write_translate(cpu, second_linear);

		for (unsigned int i = 0; i < size; i++) {
			uint64_t phys = i < first ? p1 + i : p2 + (i - first);

			phys_write(cpu, phys, 1, value >> (8 * i));
		}
		return;
	}
	phys_write(cpu, write_translate(cpu, linear), size, value);
}

void mem_check_write(struct tcg_cpu *cpu, uint64_t linear, unsigned int size)
{
	/* Read-modify-write faults as a write, on whichever page refuses it first. */
	if (!cpu->long_mode)
		linear &= 0xffffffff;
	check_alignment(cpu, linear, size);
	write_translate(cpu, linear);
	if ((linear & 0xfff) + size > 0x1000)
		write_translate(cpu, cpu->long_mode ? (linear | 0xfff) + 1 : ((linear | 0xfff) + 1) & 0xffffffff);
}

void *mem_host_ptr(struct tcg_cpu *cpu, uint64_t linear, unsigned int size, enum access access)
{
	struct tlb_entry *e;
	uint64_t page;

	if (!cpu->long_mode)
		linear &= 0xffffffff;
	if (unlikely(cpu->alignment_check)) {
		/* Multi-element ranges (string fast paths) go element by element. */
		if (size > 8 || (size & (size - 1)))
			return NULL;
		check_alignment(cpu, linear, size);
	}
	if ((linear & 0xfff) + size > 0x1000)
		return NULL;
	e = tlb_entry(cpu, linear);
	page = linear & ~0xfffULL;
	if ((access == ACCESS_WRITE ? e->write_tag : e->read_tag) != page) {
		translate_fill(cpu, linear, access);
		if ((access == ACCESS_WRITE ? e->write_tag : e->read_tag) != page)
			return NULL;
	}
	if (access == ACCESS_WRITE && cpu->code_pages[e->phys_page >> 12])
		tracked_page_written(cpu, e->phys_page);
	return (void *)(uintptr_t)(linear + e->addend);
}

uint64_t mmu_translate_code(struct tcg_cpu *cpu, uint64_t linear)
{
	struct tlb_entry *e;
	uint64_t page;

	if (!cpu->long_mode)
		linear &= 0xffffffff;
	e = tlb_entry(cpu, linear);
	page = linear & ~0xfffULL;
	if (e->exec_tag == page)
		return e->phys_page | (linear & 0xfff);
	return translate_fill(cpu, linear, ACCESS_EXEC).phys;
}

void tracked_page_written(struct tcg_cpu *cpu, uint64_t phys)
{
	struct tcg_vm *vm = cpu->vm;
	uint64_t pfn = phys >> 12;
	uint8_t flags;

	if (pfn >= vm->nr_pages)
		return;
	flags = __atomic_load_n(&vm->code_pages[pfn], __ATOMIC_SEQ_CST);
	if (flags & PAGE_WRITE_TRACKED) {
		/* Noted once; later writes go the fast way until the display asks again. */
		__atomic_and_fetch(&vm->code_pages[pfn], (uint8_t)~PAGE_WRITE_TRACKED, __ATOMIC_SEQ_CST);
		tcg_device_ram_written(vm, phys);
	}
	if (flags & PAGE_HAS_CODE) {
		/* Blocks check their page's generation before they run again. */
		__atomic_and_fetch(&vm->code_pages[pfn], (uint8_t)~PAGE_HAS_CODE, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&vm->page_gen[pfn], 1, __ATOMIC_SEQ_CST);
		/* The running block may be the one just changed: stop after this insn. */
		cpu->exit_request = 1;
	}
}

uint64_t sys_read(struct tcg_cpu *cpu, uint64_t linear, unsigned int size)
{
	uint64_t v = 0;

	for (unsigned int done = 0; done < size;) {
		uint64_t a = linear + done;
		unsigned int n = MIN(size - done, 0x1000 - (unsigned int)(a & 0xfff));

		if (!cpu->long_mode)
			a &= 0xffffffff;
		uint64_t phys = mmu_translate(cpu, a, ACCESS_READ, false);

		for (unsigned int i = 0; i < n; i++)
			v |= phys_read(cpu, phys + i, 1) << (8 * (done + i));
		done += n;
	}
	return v;
}

void sys_write(struct tcg_cpu *cpu, uint64_t linear, unsigned int size, uint64_t value)
{
	uint64_t phys[2] = { 0, 0 };
	unsigned int first = MIN(size, 0x1000 - (unsigned int)(linear & 0xfff));

	/* Translate every page first: a fault must not leave a partial write. */
	if (!cpu->long_mode)
		linear &= 0xffffffff;
	phys[0] = mmu_translate(cpu, linear, ACCESS_WRITE, false);
	if (first < size)
		phys[1] = mmu_translate(cpu, cpu->long_mode ? linear + first : (linear + first) & 0xffffffff,
					ACCESS_WRITE, false);
	if (first == size) {
		phys_write(cpu, phys[0], size, value);
		return;
	}
	for (unsigned int i = 0; i < size; i++)
		phys_write(cpu, i < first ? phys[0] + i : phys[1] + (i - first), 1, value >> (8 * i));
}
