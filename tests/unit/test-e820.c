/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BIOS memory map a guest is given for small, hole-sized and large RAM,
 * and x86 segment descriptors encoded as a GDT holds them (Intel SDM Vol. 3A
 * §3.4.5, Figure 3-8), compared with descriptors computed by hand.
 */
#include <glib.h>
#include <string.h>

#include "e820.h"
#include "layout.h"
#include "x86_state.h"

/*
 * Guest RAM as the guest-physical map of layout.h describes it.  Only the
 * layout matters to e820_build, so large guests need no host memory.
 */
static struct guest_memory describe_ram(uint64_t size)
{
	struct guest_memory mem = { .ram_size_bytes = size, .nr_regions = 1 };
	uint64_t low = MIN(size, LAYOUT_PCI_HOLE_START);

	mem.regions[0] = (struct guest_memory_region){ 0, low, NULL };
	if (size > low) {
		mem.regions[1] = (struct guest_memory_region){ LAYOUT_4GIB, size - low, NULL };
		mem.nr_regions = 2;
	}
	return mem;
}

static bool inside_ram(const struct guest_memory *mem, uint64_t addr, uint64_t size)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_memory_region *r = &mem->regions[i];

		if (addr >= r->guest_phys_addr && addr + size <= r->guest_phys_addr + r->size_bytes)
			return true;
	}
	return false;
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* The legacy hole every PC has below 1 MiB: EBDA, VGA window, BIOS. */
#define LEGACY_HOLE_BYTES (LAYOUT_HIGH_MEMORY_ADDR - LAYOUT_EBDA_ADDR)

static void check_map(const struct guest_memory *mem, uint64_t size)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int n = e820_build(mem, map);
	uint64_t ram = 0;
	bool bios_reserved = false, ebda_reserved = false, kvm_reserved = false;

	g_assert_cmpuint(n, >, 0);
	g_assert_cmpuint(n, <=, E820_MAX_ENTRIES);
	for (unsigned int i = 0; i < n; i++) {
		const struct e820_entry *e = &map[i];

		g_assert_cmpuint(e->size, >, 0);
		g_assert_true(e->type == E820_TYPE_RAM || e->type == E820_TYPE_RESERVED);
		/* Sorted and non-overlapping. */
		if (i > 0)
			g_assert_cmphex(map[i - 1].addr + map[i - 1].size, <=, e->addr);
		if (e->type == E820_TYPE_RAM) {
			/* RAM entries are backed by guest RAM, and avoid every hole. */
			g_assert_true(inside_ram(mem, e->addr, e->size));
			g_assert_false(overlaps(e->addr, e->size, LAYOUT_EBDA_ADDR, LEGACY_HOLE_BYTES));
			g_assert_false(overlaps(e->addr, e->size, LAYOUT_PCI_HOLE_START,
						LAYOUT_4GIB - LAYOUT_PCI_HOLE_START));
			ram += e->size;
		} else {
			if (e->addr <= LAYOUT_EBDA_ADDR && e->addr + e->size >= LAYOUT_VGA_HOLE_ADDR)
				ebda_reserved = true;
			if (e->addr <= LAYOUT_BIOS_AREA_ADDR && e->addr + e->size >= LAYOUT_HIGH_MEMORY_ADDR)
				bios_reserved = true;
			if (e->addr <= LAYOUT_KVM_IDENTITY_MAP_ADDR &&
			    e->addr + e->size >= LAYOUT_KVM_TSS_ADDR + 3 * 4096)
				kvm_reserved = true;
		}
	}
	/* Conventional memory starts at 0 and the RAM above 1 MiB is listed. */
	g_assert_cmphex(map[0].addr, ==, 0);
	g_assert_cmpuint(map[0].type, ==, E820_TYPE_RAM);
	g_assert_cmphex(map[0].size, ==, LAYOUT_EBDA_ADDR);
	/* The MP table's areas and KVM's pages must never be handed out as RAM. */
	g_assert_true(ebda_reserved);
	g_assert_true(bios_reserved);
	g_assert_true(kvm_reserved);
	/* All the guest's RAM is usable except the legacy hole below 1 MiB. */
	g_assert_cmphex(ram + LEGACY_HOLE_BYTES, ==, size);
}

static void test_64m(void)
{
	g_autoptr(GError) error = NULL;
	struct guest_memory mem;
	struct e820_entry map[E820_MAX_ENTRIES];

	/* Real guest memory for the small case, so the two modules agree. */
	g_assert_true(guest_memory_init(&mem, 64ULL << 20, &error));
	check_map(&mem, 64ULL << 20);
	g_assert_cmpuint(e820_build(&mem, map), ==, 5);
	g_assert_cmphex(map[3].addr, ==, LAYOUT_HIGH_MEMORY_ADDR);
	g_assert_cmphex(map[3].addr + map[3].size, ==, 64ULL << 20);
	guest_memory_destroy(&mem);
}

static void test_3g(void)
{
	struct guest_memory mem = describe_ram(3ULL << 30);
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int n = e820_build(&mem, map);

	check_map(&mem, 3ULL << 30);
	/* Exactly up to the PCI hole; nothing above 4 GiB. */
	g_assert_cmphex(map[3].addr + map[3].size, ==, LAYOUT_PCI_HOLE_START);
	g_assert_cmphex(map[n - 1].addr, <, LAYOUT_4GIB);
}

static void test_5g(void)
{
	struct guest_memory mem = describe_ram(5ULL << 30);
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int n = e820_build(&mem, map);

	check_map(&mem, 5ULL << 30);
	/* 3 GiB below the hole, the other 2 GiB from 4 GiB up. */
	g_assert_cmphex(map[3].addr + map[3].size, ==, LAYOUT_PCI_HOLE_START);
	g_assert_cmphex(map[n - 1].addr, ==, LAYOUT_4GIB);
	g_assert_cmphex(map[n - 1].size, ==, 2ULL << 30);
	g_assert_cmpuint(map[n - 1].type, ==, E820_TYPE_RAM);
}

static void test_tiny(void)
{
	/* The smallest guest accepted: RAM above 1 MiB still listed. */
	struct guest_memory mem = describe_ram(LAYOUT_MIN_RAM_SIZE);

	check_map(&mem, LAYOUT_MIN_RAM_SIZE);
}

static void test_descriptors(void)
{
	struct x86_segment code64 = x86_flat_segment(0x10, X86_SEG_TYPE_CODE_RX_ACCESSED, true);
	struct x86_segment code32 = x86_flat_segment(0x08, X86_SEG_TYPE_CODE_RX_ACCESSED, false);
	struct x86_segment data = x86_flat_segment(0x18, X86_SEG_TYPE_DATA_RW_ACCESSED, false);
	struct x86_segment user_data = data;
	struct x86_cpu_state reset;
	struct x86_segment real_data = {
		.base = 0x12340, .limit = 0xffff, .selector = 0x1234,
		.type = X86_SEG_TYPE_DATA_RW_ACCESSED, .present = true, .s = true,
	};
	struct x86_segment odd = {
		.base = 0xfedcba98, .limit = 0xabcde, .type = 0x5, .present = true, .s = true,
		.avl = true, .dpl = 2,
	};

	/*
	 * Hand-computed: limit[15:0], base[23:0], type, S, DPL, P, limit[19:16],
	 * AVL, L, D/B, G, base[31:24].
	 */
	g_assert_cmphex(x86_segment_to_descriptor(&code64), ==, 0x00af9b000000ffffULL);
	g_assert_cmphex(x86_segment_to_descriptor(&code32), ==, 0x00cf9b000000ffffULL);
	g_assert_cmphex(x86_segment_to_descriptor(&data), ==, 0x00cf93000000ffffULL);
	user_data.dpl = 3;
	g_assert_cmphex(x86_segment_to_descriptor(&user_data), ==, 0x00cff3000000ffffULL);
	/* Real-mode style: byte granular 64 KiB at selector << 4. */
	g_assert_cmphex(x86_segment_to_descriptor(&real_data), ==, 0x000093012340ffffULL);
	/* Page granular: a 16 MiB limit is stored as 0x00fff pages. */
	{
		struct x86_segment mb16 = x86_flat_segment(0x20, X86_SEG_TYPE_DATA_RW_ACCESSED, false);

		mb16.limit = 0x00ffffff;
		g_assert_cmphex(x86_segment_to_descriptor(&mb16), ==, 0x00c0930000000fffULL);
	}
	/* Every field distinct, byte granular limit above 64 KiB. */
	g_assert_cmphex(x86_segment_to_descriptor(&odd), ==, 0xfe1ad5dcba98bcdeULL);

	/* The CPU after RESET: CS F000 with base FFFF0000, IP FFF0. */
	x86_cpu_state_init_reset(&reset);
	g_assert_cmphex(reset.cs.selector, ==, 0xf000);
	g_assert_cmphex(reset.cs.base, ==, 0xffff0000);
	g_assert_cmphex(reset.rip, ==, 0xfff0);
	g_assert_cmphex(reset.rflags, ==, 0x2);
	g_assert_cmphex(reset.cr0, ==, 0x60000010);
	g_assert_cmphex(x86_segment_to_descriptor(&reset.cs), ==, 0xff009bff0000ffffULL);
	g_assert_cmphex(x86_segment_to_descriptor(&reset.ds), ==, 0x000093000000ffffULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/e820/64m", test_64m);
	g_test_add_func("/e820/3g", test_3g);
	g_test_add_func("/e820/5g", test_5g);
	g_test_add_func("/e820/tiny", test_tiny);
	g_test_add_func("/x86-state/descriptors", test_descriptors);
	return g_test_run();
}
