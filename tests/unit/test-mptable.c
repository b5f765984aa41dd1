/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MP tables as a guest kernel finds them (Intel MultiProcessor
 * Specification 1.4): scan for the floating pointer, check both checksums,
 * then walk the base configuration table entry by entry.  Offsets are
 * taken from the spec's tables, not from the implementation's structs.
 */
#include <glib.h>
#include <string.h>

#include "error.h"
#include "guest_memory.h"
#include "layout.h"
#include "mptable.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/*
 * MP spec §4: the floating pointer is on a 16-byte boundary in the first KiB
 * of the EBDA, the last KiB of base memory, or 0xF0000-0xFFFFF.
 */
static uint64_t find_floating_pointer(const struct guest_memory *mem)
{
	uint16_t ebda_segment = 0, base_kib = 0;
	uint64_t areas[3][2];

	g_assert_true(guest_memory_read(mem, 0x40e, &ebda_segment, 2));
	g_assert_true(guest_memory_read(mem, 0x413, &base_kib, 2));
	areas[0][0] = (uint64_t)ebda_segment << 4;
	areas[0][1] = 1024;
	areas[1][0] = ((uint64_t)base_kib - 1) << 10;
	areas[1][1] = 1024;
	areas[2][0] = 0xf0000;
	areas[2][1] = 0x10000;
	for (unsigned int a = 0; a < 3; a++) {
		for (uint64_t at = areas[a][0]; at < areas[a][0] + areas[a][1]; at += 16) {
			const uint8_t *p = guest_memory_ptr(mem, at, 16);

			if (p && !memcmp(p, "_MP_", 4) && p[8] == 1 && sum(p, 16) == 0)
				return at;
		}
	}
	return 0;
}

struct parsed {
	unsigned int processors, buses, ioapics, io_ints, local_ints;
	uint8_t ioapic_id;
	int isa_bus_id, pci_bus_id;
	int pin_of_irq[16];	/* I/O APIC pin each ISA IRQ goes to, -1 none */
	bool lint_extint, lint_nmi;
};

static void check_tables(const struct guest_memory *mem, unsigned int nr_cpus)
{
	uint64_t fp_addr = find_floating_pointer(mem);
	const uint8_t *fp, *header, *entry, *end;
	uint32_t table_addr;
	uint16_t length, count;
	struct parsed p = { .isa_bus_id = -1, .pci_bus_id = -1 };
	uint8_t last_type = 0;

	g_assert_cmphex(fp_addr, !=, 0);
	g_assert_cmphex(fp_addr, >=, LAYOUT_BIOS_AREA_ADDR);
	fp = guest_memory_ptr(mem, fp_addr, 16);
	g_assert_cmpuint(fp[9], ==, 4);		/* spec revision 1.4 */
	for (unsigned int i = 11; i < 16; i++)
		g_assert_cmpuint(fp[i], ==, 0);	/* feature byte 1 = 0: a table is present */
	table_addr = le32(fp + 4);
	g_assert_cmphex(table_addr, !=, 0);

	header = guest_memory_ptr(mem, table_addr, 44);
	g_assert_nonnull(header);
	g_assert_cmpmem(header, 4, "PCMP", 4);
	length = le16(header + 4);
	g_assert_cmpuint(length, >=, 44);
	header = guest_memory_ptr(mem, table_addr, length);
	g_assert_nonnull(header);
	g_assert_cmpuint(header[6], ==, 4);
	g_assert_cmpuint(sum(header, length), ==, 0);
	g_assert_cmphex(le32(header + 36), ==, LAYOUT_LAPIC_ADDR);
	g_assert_cmpuint(le16(header + 40), ==, 0);	/* no extended table */
	/* The table stays in the BIOS area and does not overlap the pointer. */
	g_assert_true(table_addr >= fp_addr + 16 || table_addr + length <= fp_addr);
	g_assert_cmphex(table_addr + length, <=, 0x100000);
	count = le16(header + 34);

	for (unsigned int i = 0; i < 16; i++)
		p.pin_of_irq[i] = -1;
	entry = header + 44;
	end = header + length;
	for (unsigned int n = 0; n < count; n++) {
		uint8_t type = entry[0];

		g_assert_true(entry < end);
		/* §4.3: entries come grouped by type, in ascending type order. */
		g_assert_cmpuint(type, >=, last_type);
		last_type = type;
		switch (type) {
		case 0:	/* processor, 20 bytes */
			g_assert_cmpuint(entry[1], ==, p.processors);	/* APIC ID */
			g_assert_cmphex(entry[3] & 0x01, ==, 0x01);	/* enabled */
			g_assert_cmphex(entry[3] & 0x02, ==, p.processors == 0 ? 0x02 : 0);	/* BSP */
			g_assert_cmphex(entry[2], !=, 0);		/* LAPIC version */
			p.processors++;
			entry += 20;
			break;
		case 1:	/* bus, 8 bytes */
			if (!memcmp(entry + 2, "ISA   ", 6))
				p.isa_bus_id = entry[1];
			else if (!memcmp(entry + 2, "PCI   ", 6))
				p.pci_bus_id = entry[1];
			else
				g_assert_not_reached();
			p.buses++;
			entry += 8;
			break;
		case 2:	/* I/O APIC, 8 bytes */
			p.ioapic_id = entry[1];
			g_assert_cmphex(entry[3] & 1, ==, 1);
			g_assert_cmphex(le32(entry + 4), ==, LAYOUT_IOAPIC_ADDR);
			p.ioapics++;
			entry += 8;
			break;
		case 3:	/* I/O interrupt assignment, 8 bytes */
			g_assert_cmpuint(entry[1], ==, 0);		/* INT */
			g_assert_cmpint(entry[4], ==, p.isa_bus_id);
			g_assert_cmpuint(entry[5], <, 16);
			g_assert_cmpuint(entry[6], ==, p.ioapic_id);
			g_assert_cmpint(p.pin_of_irq[entry[5]], ==, -1);	/* listed once */
			p.pin_of_irq[entry[5]] = entry[7];
			p.io_ints++;
			entry += 8;
			break;
		case 4:	/* local interrupt assignment, 8 bytes */
			g_assert_cmphex(entry[6], ==, 0xff);		/* every local APIC */
			if (entry[1] == 3 && entry[7] == 0)
				p.lint_extint = true;			/* ExtINT on LINT0 */
			else if (entry[1] == 1 && entry[7] == 1)
				p.lint_nmi = true;			/* NMI on LINT1 */
			else
				g_assert_not_reached();
			p.local_ints++;
			entry += 8;
			break;
		default:
			g_assert_not_reached();
		}
	}
	/* The count and the length describe the same entries. */
	g_assert_true(entry == end);

	g_assert_cmpuint(p.processors, ==, nr_cpus);
	g_assert_cmpuint(p.buses, ==, 2);
	g_assert_cmpint(p.isa_bus_id, >=, 0);
	g_assert_cmpint(p.pci_bus_id, >=, 0);
	g_assert_cmpint(p.isa_bus_id, !=, p.pci_bus_id);
	g_assert_cmpuint(p.ioapics, ==, 1);
	g_assert_cmpuint(p.local_ints, ==, 2);
	g_assert_true(p.lint_extint && p.lint_nmi);
	/* The PIT's IRQ 0 goes to pin 2; the others to their own pin; no cascade. */
	g_assert_cmpint(p.pin_of_irq[0], ==, 2);
	g_assert_cmpint(p.pin_of_irq[2], ==, -1);
	for (int irq = 1; irq < 16; irq++)
		if (irq != 2)
			g_assert_cmpint(p.pin_of_irq[irq], ==, irq);
	g_assert_cmpuint(p.io_ints, ==, 15);

	/* BIOS data area: EBDA segment and base memory size in KiB. */
	g_assert_cmphex(le16(guest_memory_ptr(mem, 0x40e, 2)), ==, 0x9fc0);
	g_assert_cmpuint(le16(guest_memory_ptr(mem, 0x413, 2)), ==, 639);
}

static void test_cpu_counts(void)
{
	static const unsigned int counts[] = { 1, 2, 3, 4, 16, MPTABLE_MAX_CPUS };

	for (unsigned int i = 0; i < G_N_ELEMENTS(counts); i++) {
		g_autoptr(GError) error = NULL;
		struct guest_memory mem;

		g_assert_true(guest_memory_init(&mem, 16ULL << 20, &error));
		g_assert_true(mptable_write(&mem, counts[i], &error));
		g_assert_no_error(error);
		check_tables(&mem, counts[i]);
		guest_memory_destroy(&mem);
	}
}

static void test_rewrite(void)
{
	g_autoptr(GError) error = NULL;
	struct guest_memory mem;

	/* After a reset with fewer CPUs, the guest finds the new table only. */
	g_assert_true(guest_memory_init(&mem, 16ULL << 20, &error));
	g_assert_true(mptable_write(&mem, 8, &error));
	g_assert_true(mptable_write(&mem, 2, &error));
	check_tables(&mem, 2);
	guest_memory_destroy(&mem);
}

static void test_refused(void)
{
	static const unsigned int bad[] = { 0, MPTABLE_MAX_CPUS + 1 };
	g_autoptr(GError) init_error = NULL;
	struct guest_memory mem;

	g_assert_true(guest_memory_init(&mem, 16ULL << 20, &init_error));
	for (unsigned int i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_false(mptable_write(&mem, bad[i], &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
		/* Nothing was written. */
		g_assert_cmphex(find_floating_pointer(&mem), ==, 0);
	}
	guest_memory_destroy(&mem);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mptable/cpu-counts", test_cpu_counts);
	g_test_add_func("/mptable/rewrite", test_rewrite);
	g_test_add_func("/mptable/refused", test_refused);
	return g_test_run();
}
