/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI tables as an OS finds them (ACPI 6.5 §5.2): scan the BIOS area
 * for the RSDP, check every checksum and length, follow the XSDT and RSDT
 * to the FADT and MADT, the FADT to the FACS and DSDT.  Offsets come from
 * the spec's tables, not from the implementation's structs.  Then the PM1
 * registers (§4.8.3) as the OS drives them: write-1-to-clear status, the
 * SCI level, SLP_EN with the \_S5 type switching the machine off, and the
 * PM timer's rate.
 */
#include <glib.h>
#include <string.h>

#include "acpi.h"
#include "e820.h"
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

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* §5.2.5.1: "RSD PTR " on a 16-byte boundary in 0xE0000-0xFFFFF. */
static uint64_t find_rsdp(const struct guest_memory *mem)
{
	for (uint64_t at = 0xe0000; at < 0x100000; at += 16) {
		const uint8_t *p = guest_memory_ptr(mem, at, 36);

		if (p && !memcmp(p, "RSD PTR ", 8) && sum(p, 20) == 0)
			return at;
	}
	return 0;
}

/* A description table: signature, length within the ACPI area, checksum. */
static const uint8_t *table_at(const struct guest_memory *mem, uint64_t addr, const char *signature)
{
	const uint8_t *header = guest_memory_ptr(mem, addr, 36);
	uint32_t length;

	g_assert_nonnull(header);
	g_assert_cmpmem(header, 4, signature, 4);
	length = le32(header + 4);
	g_assert_cmpuint(length, >=, 36);
	/* Inside the area layout.h (and the e820 map) reserve for them. */
	g_assert_cmphex(addr, >=, LAYOUT_ACPI_ADDR);
	g_assert_cmphex(addr + length, <=, LAYOUT_ACPI_ADDR + LAYOUT_ACPI_SIZE);
	g_assert_cmpuint(sum(guest_memory_ptr(mem, addr, length), length), ==, 0);
	g_assert_cmpmem(header + 10, 6, "VESSEL", 6);	/* OEMID */
	return guest_memory_ptr(mem, addr, length);
}

/* The addresses an XSDT (8-byte entries) or RSDT (4-byte entries) lists. */
static GArray *sdt_entries(const uint8_t *sdt, unsigned int entry_size)
{
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	uint32_t length = le32(sdt + 4);

	g_assert_cmpuint((length - 36) % entry_size, ==, 0);
	for (uint32_t at = 36; at < length; at += entry_size) {
		uint64_t addr = entry_size == 8 ? le64(sdt + at) : le32(sdt + at);

		g_array_append_val(entries, addr);
	}
	return entries;
}

static uint64_t find_entry(const struct guest_memory *mem, GArray *entries, const char *signature)
{
	for (unsigned int i = 0; i < entries->len; i++) {
		uint64_t addr = g_array_index(entries, uint64_t, i);
		const uint8_t *p = guest_memory_ptr(mem, addr, 4);

		if (p && !memcmp(p, signature, 4))
			return addr;
	}
	return 0;
}

static bool contains(const uint8_t *haystack, size_t len, const uint8_t *needle, size_t needle_len)
{
	for (size_t i = 0; i + needle_len <= len; i++)
		if (!memcmp(haystack + i, needle, needle_len))
			return true;
	return false;
}

static void check_fadt(const struct guest_memory *mem, const uint8_t *fadt)
{
	uint32_t flags = le32(fadt + 112);

	g_assert_cmpuint(le32(fadt + 4), ==, 276);	/* revision 6 layout */
	g_assert_cmpuint(fadt[8], ==, 6);
	g_assert_cmpuint(le16(fadt + 46), ==, ACPI_SCI_GSI);	/* SCI_INT */
	g_assert_cmpuint(le32(fadt + 48), ==, 0);	/* SMI_CMD: always in ACPI mode */
	g_assert_cmphex(le32(fadt + 56), ==, ACPI_PM_PORT + ACPI_PM1_EVT_OFFSET);	/* PM1a_EVT_BLK */
	g_assert_cmphex(le32(fadt + 60), ==, 0);	/* PM1b_EVT_BLK */
	g_assert_cmphex(le32(fadt + 64), ==, ACPI_PM_PORT + ACPI_PM1_CNT_OFFSET);	/* PM1a_CNT_BLK */
	g_assert_cmphex(le32(fadt + 76), ==, ACPI_PM_PORT + ACPI_PM_TMR_OFFSET);	/* PM_TMR_BLK */
	g_assert_cmpuint(fadt[88], ==, 4);		/* PM1_EVT_LEN */
	g_assert_cmpuint(fadt[89], ==, 2);		/* PM1_CNT_LEN */
	g_assert_cmpuint(fadt[91], ==, 4);		/* PM_TMR_LEN */
	g_assert_cmpuint(fadt[108], ==, 0x32);		/* CENTURY: the RTC's CMOS byte */
	g_assert_cmphex(le16(fadt + 109) & 3, ==, 3);	/* IAPC_BOOT_ARCH: legacy devices, 8042 */
	g_assert_false(flags & (1u << 4));		/* PWR_BUTTON clear: fixed-feature button */
	g_assert_true(flags & (1u << 8));		/* TMR_VAL_EXT: 32-bit timer */
	g_assert_false(flags & (1u << 20));		/* not HW_REDUCED_ACPI */

	/* FIRMWARE_CTRL → FACS: 64 bytes on a 64-byte boundary (§5.2.10). */
	uint32_t facs_addr = le32(fadt + 36);
	const uint8_t *facs = guest_memory_ptr(mem, facs_addr, 64);

	g_assert_nonnull(facs);
	g_assert_cmpuint(facs_addr % 64, ==, 0);
	g_assert_cmpmem(facs, 4, "FACS", 4);
	g_assert_cmpuint(le32(facs + 4), ==, 64);

	/* DSDT: \_S5 exactly as an ASL compiler encodes Name (_S5, Package () {5, 5, 0, 0}). */
	const uint8_t *dsdt = table_at(mem, le32(fadt + 40), "DSDT");
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	/* Name (_HID, EisaId ("PNP0A03")): the PCI root bridge. */
	static const uint8_t pci_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	/* Scope (\_SB) { Device (PCI0) ...: ScopeOp, then after the PkgLength the root name. */
	static const uint8_t sb[] = { '\\', '_', 'S', 'B', '_' };
	static const uint8_t pci0[] = { 0x5b, 0x82 };

	g_assert_cmpuint(dsdt[8], ==, 2);		/* 64-bit AML integers */
	g_assert_cmpmem(dsdt + 36, sizeof(s5), s5, sizeof(s5));
	g_assert_true(contains(dsdt, le32(dsdt + 4), pci_hid, sizeof(pci_hid)));
	g_assert_true(contains(dsdt, le32(dsdt + 4), sb, sizeof(sb)));
	g_assert_true(contains(dsdt, le32(dsdt + 4), pci0, sizeof(pci0)));
	/* The scope's PkgLength reaches exactly to the end of the table. */
	const uint8_t *scope = dsdt + 36 + sizeof(s5);
	size_t scope_len;

	g_assert_cmpuint(scope[0], ==, 0x10);
	if (scope[1] < 0x40)
		scope_len = scope[1];
	else
		scope_len = (scope[1] & 0x0f) | (size_t)scope[2] << 4 | ((scope[1] >> 6) > 1 ? (size_t)scope[3] << 12 : 0);
	g_assert_cmpuint(36 + sizeof(s5) + 1 + scope_len, ==, le32(dsdt + 4));
}

static void check_madt(const uint8_t *madt, unsigned int nr_cpus)
{
	uint32_t length = le32(madt + 4);
	unsigned int cpus = 0, ioapics = 0, overrides = 0, nmis = 0;

	g_assert_cmphex(le32(madt + 36), ==, LAYOUT_LAPIC_ADDR);
	g_assert_cmphex(le32(madt + 40) & 1, ==, 1);	/* PCAT_COMPAT */
	for (uint32_t at = 44; at < length; at += madt[at + 1]) {
		const uint8_t *e = madt + at;

		g_assert_cmpuint(e[1], >=, 2);
		g_assert_cmpuint(at + e[1], <=, length);
		switch (e[0]) {
		case 0:		/* Processor Local APIC */
			g_assert_cmpuint(e[1], ==, 8);
			g_assert_cmpuint(e[3], ==, cpus);	/* APIC IDs 0..n-1, BSP first */
			g_assert_cmpuint(e[2], ==, cpus);	/* processor UID */
			g_assert_cmphex(le32(e + 4) & 1, ==, 1);	/* enabled */
			cpus++;
			break;
		case 1:		/* I/O APIC */
			g_assert_cmpuint(e[1], ==, 12);
			g_assert_cmpuint(e[2], ==, 0);
			g_assert_cmphex(le32(e + 4), ==, LAYOUT_IOAPIC_ADDR);
			g_assert_cmpuint(le32(e + 8), ==, 0);
			ioapics++;
			break;
		case 2:		/* Interrupt Source Override */
			g_assert_cmpuint(e[1], ==, 10);
			g_assert_cmpuint(e[2], ==, 0);		/* ISA */
			if (e[3] == 0) {
				/* The PIT on pin 2, as the MP table says. */
				g_assert_cmpuint(le32(e + 4), ==, 2);
				g_assert_cmphex(le16(e + 8), ==, 0);
			} else {
				/* The SCI: level-triggered, active high. */
				g_assert_cmpuint(e[3], ==, ACPI_SCI_GSI);
				g_assert_cmpuint(le32(e + 4), ==, ACPI_SCI_GSI);
				g_assert_cmphex(le16(e + 8), ==, 0x000d);
			}
			overrides++;
			break;
		case 4:		/* Local APIC NMI: LINT1 of every CPU */
			g_assert_cmpuint(e[1], ==, 6);
			g_assert_cmpuint(e[2], ==, 0xff);
			g_assert_cmpuint(e[5], ==, 1);
			nmis++;
			break;
		default:
			g_assert_not_reached();
		}
	}
	g_assert_cmpuint(cpus, ==, nr_cpus);
	g_assert_cmpuint(ioapics, ==, 1);
	g_assert_cmpuint(overrides, ==, 2);
	g_assert_cmpuint(nmis, ==, 1);
}

static void check_tables(const struct guest_memory *mem, unsigned int nr_cpus)
{
	uint64_t rsdp_addr = find_rsdp(mem);
	const uint8_t *rsdp;

	g_assert_cmphex(rsdp_addr, !=, 0);
	rsdp = guest_memory_ptr(mem, rsdp_addr, 36);
	g_assert_cmpuint(rsdp[15], ==, 2);		/* revision: ACPI 2.0+ */
	g_assert_cmpuint(le32(rsdp + 20), ==, 36);
	g_assert_cmpuint(sum(rsdp, 36), ==, 0);		/* extended checksum */

	const uint8_t *xsdt = table_at(mem, le64(rsdp + 24), "XSDT");
	const uint8_t *rsdt = table_at(mem, le32(rsdp + 16), "RSDT");
	g_autoptr(GArray) x_entries = sdt_entries(xsdt, 8);
	g_autoptr(GArray) r_entries = sdt_entries(rsdt, 4);

	g_assert_cmpuint(x_entries->len, ==, 2);
	g_assert_cmpmem(x_entries->data, 2 * sizeof(uint64_t), r_entries->data, 2 * sizeof(uint64_t));
	check_fadt(mem, table_at(mem, find_entry(mem, x_entries, "FACP"), "FACP"));
	check_madt(table_at(mem, find_entry(mem, x_entries, "APIC"), "APIC"), nr_cpus);
}

static void test_tables(void)
{
	static const unsigned int counts[] = { 1, 2, 7, MPTABLE_MAX_CPUS };

	for (unsigned int i = 0; i < G_N_ELEMENTS(counts); i++) {
		struct guest_memory mem;
		GError *error = NULL;

		g_assert_true(guest_memory_init(&mem, 16ULL << 20, &error));
		/* As at boot: the MP table first; neither may overwrite the other. */
		g_assert_true(mptable_write(&mem, counts[i], &error));
		g_assert_true(acpi_tables_write(&mem, counts[i], &error));
		g_assert_no_error(error);
		check_tables(&mem, counts[i]);

		const uint8_t *fp = guest_memory_ptr(&mem, LAYOUT_BIOS_AREA_ADDR, 16);
		const uint8_t *mp = guest_memory_ptr(&mem, le32(fp + 4), 44);

		g_assert_cmpmem(fp, 4, "_MP_", 4);
		g_assert_cmpmem(mp, 4, "PCMP", 4);
		g_assert_cmphex(le32(fp + 4) + le16(mp + 4), <=, LAYOUT_ACPI_ADDR);
		guest_memory_destroy(&mem);
	}
}

/* The guest's memory map reserves every byte of the tables. */
static void test_e820_reserves_tables(void)
{
	struct guest_memory mem;
	struct e820_entry map[E820_MAX_ENTRIES];
	GError *error = NULL;
	bool reserved = false;
	unsigned int n;

	g_assert_true(guest_memory_init(&mem, 16ULL << 20, &error));
	n = e820_build(&mem, map);
	for (unsigned int i = 0; i < n; i++)
		if (map[i].type == E820_TYPE_RESERVED && map[i].addr <= LAYOUT_ACPI_ADDR &&
		    map[i].addr + map[i].size >= LAYOUT_ACPI_ADDR + LAYOUT_ACPI_SIZE)
			reserved = true;
	g_assert_true(reserved);
	guest_memory_destroy(&mem);
}

static void test_refused(void)
{
	struct guest_memory mem;
	GError *error = NULL;

	g_assert_true(guest_memory_init(&mem, 16ULL << 20, &error));
	g_assert_false(acpi_tables_write(&mem, 0, &error));
	g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(acpi_tables_write(&mem, MPTABLE_MAX_CPUS + 1, &error));
	g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	guest_memory_destroy(&mem);
}

/* --- PM1 registers --- */

struct pm_fixture {
	struct acpi_pm *pm;
	bool sci;
	unsigned int sci_changes;
	unsigned int power_offs;
};

static int64_t fake_now_ns;

static int64_t fake_clock(void)
{
	return fake_now_ns;
}

static void record_sci(void *opaque, unsigned int gsi, bool level)
{
	struct pm_fixture *f = opaque;

	g_assert_cmpuint(gsi, ==, ACPI_SCI_GSI);
	f->sci = level;
	f->sci_changes++;
}

static void record_power_off(void *opaque)
{
	struct pm_fixture *f = opaque;

	f->power_offs++;
}

static void pm_setup(struct pm_fixture *f, gconstpointer data)
{
	struct irq_line sci = { .set_level = record_sci, .opaque = f, .gsi = ACPI_SCI_GSI };

	memset(f, 0, sizeof(*f));
	fake_now_ns = 0;
	f->pm = acpi_pm_new(sci, record_power_off, f);
	acpi_pm_set_clock(f->pm, fake_clock);
}

static void pm_teardown(struct pm_fixture *f, gconstpointer data)
{
	acpi_pm_free(f->pm);
}

static uint64_t pm_in(struct pm_fixture *f, unsigned int offset, unsigned int size)
{
	return acpi_pm_bus_ops.read(f->pm, offset, size);
}

static void pm_out(struct pm_fixture *f, unsigned int offset, unsigned int size, uint64_t value)
{
	acpi_pm_bus_ops.write(f->pm, offset, value, size);
}

#define STS	ACPI_PM1_EVT_OFFSET
#define EN	(ACPI_PM1_EVT_OFFSET + 2)
#define CNT	ACPI_PM1_CNT_OFFSET
#define TMR	ACPI_PM_TMR_OFFSET

static void test_power_on_state(struct pm_fixture *f, gconstpointer data)
{
	g_assert_cmphex(pm_in(f, STS, 2), ==, 0);
	g_assert_cmphex(pm_in(f, EN, 2), ==, 0);
	/* SMI_CMD is 0: already in ACPI mode, and the OS cannot leave it. */
	g_assert_cmphex(pm_in(f, CNT, 2), ==, ACPI_PM1_CNT_SCI_EN);
	pm_out(f, CNT, 2, 0);
	g_assert_cmphex(pm_in(f, CNT, 2), ==, ACPI_PM1_CNT_SCI_EN);
	/* The two ports between the control block and the timer decode nothing. */
	g_assert_cmphex(pm_in(f, 6, 2), ==, 0xffff);
	g_assert_false(f->sci);
}

static void test_power_button(struct pm_fixture *f, gconstpointer data)
{
	/* Pressed while disabled: the status is set, the SCI stays low. */
	acpi_pm_press_power_button(f->pm);
	g_assert_cmphex(pm_in(f, STS, 2), ==, ACPI_PM1_PWRBTN);
	g_assert_false(f->sci);
	/* Enabling it with the status set raises the SCI. */
	pm_out(f, EN, 2, ACPI_PM1_PWRBTN);
	g_assert_cmphex(pm_in(f, EN, 2), ==, ACPI_PM1_PWRBTN);
	g_assert_true(f->sci);
	/* Writing 0s, or 1s to other bits, clears nothing. */
	pm_out(f, STS, 2, 0);
	pm_out(f, STS, 2, ACPI_PM1_TMR | ACPI_PM1_WAK_STS);
	g_assert_cmphex(pm_in(f, STS, 2) & ACPI_PM1_PWRBTN, ==, ACPI_PM1_PWRBTN);
	g_assert_true(f->sci);
	/* Write 1 to clear: the SCI drops with the status. */
	pm_out(f, STS, 2, ACPI_PM1_PWRBTN);
	g_assert_cmphex(pm_in(f, STS, 2), ==, 0);
	g_assert_false(f->sci);
	/* Pressed again while enabled: the SCI rises at once; a byte write to the high half clears it. */
	acpi_pm_press_power_button(f->pm);
	g_assert_true(f->sci);
	pm_out(f, STS + 1, 1, ACPI_PM1_PWRBTN >> 8);
	g_assert_false(f->sci);
	g_assert_cmpuint(f->sci_changes, ==, 4);
	/* Disabling masks a pending status. */
	acpi_pm_press_power_button(f->pm);
	pm_out(f, EN, 2, 0);
	g_assert_false(f->sci);
	g_assert_cmphex(pm_in(f, STS, 2), ==, ACPI_PM1_PWRBTN);
	/* Reset: no status, nothing enabled, SCI low. */
	pm_out(f, EN, 2, ACPI_PM1_PWRBTN);
	g_assert_true(f->sci);
	acpi_pm_reset(f->pm);
	g_assert_false(f->sci);
	g_assert_cmphex(pm_in(f, STS, 2) | pm_in(f, EN, 2), ==, 0);
	g_assert_cmpuint(f->power_offs, ==, 0);
}

/* The enable bits ACPICA reads back after enabling its fixed events. */
static void test_enable_bits(struct pm_fixture *f, gconstpointer data)
{
	uint16_t all = ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC;

	pm_out(f, EN, 2, 0xffff);
	g_assert_cmphex(pm_in(f, EN, 2), ==, all);
	/* A 32-bit write of the whole event block: status clears, enable set. */
	acpi_pm_press_power_button(f->pm);
	pm_out(f, STS, 4, (uint32_t)ACPI_PM1_PWRBTN << 16 | ACPI_PM1_PWRBTN);
	g_assert_cmphex(pm_in(f, STS, 4), ==, (uint32_t)ACPI_PM1_PWRBTN << 16);
	g_assert_false(f->sci);
}

static void test_sleep(struct pm_fixture *f, gconstpointer data)
{
	uint16_t s5 = ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT;

	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN. */
	pm_out(f, CNT, 2, ACPI_PM1_CNT_SCI_EN | s5);
	g_assert_cmpuint(f->power_offs, ==, 0);
	g_assert_cmphex(pm_in(f, CNT, 2), ==, ACPI_PM1_CNT_SCI_EN | s5);
	/* Another sleep type (no \_S1 exists): ignored. */
	pm_out(f, CNT, 2, ACPI_PM1_CNT_SCI_EN | 1 << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN);
	g_assert_cmpuint(f->power_offs, ==, 0);
	/* SLP_EN reads as 0. */
	g_assert_cmphex(pm_in(f, CNT, 2) & ACPI_PM1_CNT_SLP_EN, ==, 0);
	/* S5 with SLP_EN, written as the high byte alone: off. */
	pm_out(f, CNT + 1, 1, (s5 | ACPI_PM1_CNT_SLP_EN) >> 8);
	g_assert_cmpuint(f->power_offs, ==, 1);
}

static void test_timer(struct pm_fixture *f, gconstpointer data)
{
	uint32_t t0 = (uint32_t)pm_in(f, TMR, 4), t1;

	g_assert_cmpuint(t0, ==, 0);
	fake_now_ns = 1000000000;		/* one second */
	t1 = (uint32_t)pm_in(f, TMR, 4);
	g_assert_cmpuint(t1, ==, ACPI_PM_TIMER_HZ);
	/* Byte reads of the same instant agree with the 32-bit read. */
	g_assert_cmphex(pm_in(f, TMR, 1) | pm_in(f, TMR + 1, 1) << 8 | pm_in(f, TMR + 2, 2) << 16, ==, t1);
	/* Writes do nothing. */
	pm_out(f, TMR, 4, 0);
	g_assert_cmpuint(pm_in(f, TMR, 4), ==, t1);
	g_assert_cmphex(pm_in(f, STS, 2) & ACPI_PM1_TMR, ==, 0);

	/* 32 bits wrap after 2^32 ticks (TMR_VAL_EXT); bit 31 toggling sets TMR_STS. */
	fake_now_ns = (int64_t)((1ULL << 31) * 1000000000ULL / ACPI_PM_TIMER_HZ) + 1000;
	g_assert_cmphex(pm_in(f, TMR, 4), >=, 1u << 31);
	g_assert_cmphex(pm_in(f, STS, 2) & ACPI_PM1_TMR, ==, ACPI_PM1_TMR);
	pm_out(f, STS, 2, ACPI_PM1_TMR);
	g_assert_cmphex(pm_in(f, STS, 2) & ACPI_PM1_TMR, ==, 0);
	fake_now_ns = (int64_t)((1ULL << 32) * 1000000000ULL / ACPI_PM_TIMER_HZ) + 1000;
	g_assert_cmphex(pm_in(f, TMR, 4), <, 0x10000);
	g_assert_cmphex(pm_in(f, STS, 2) & ACPI_PM1_TMR, ==, ACPI_PM1_TMR);
	/* The timer does not raise the SCI (see acpi_pm.c). */
	pm_out(f, EN, 2, ACPI_PM1_TMR);
	g_assert_false(f->sci);
}

#define PM_TEST(path, fn) \
	g_test_add(path, struct pm_fixture, NULL, pm_setup, fn, pm_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi/tables", test_tables);
	g_test_add_func("/acpi/e820-reserves-tables", test_e820_reserves_tables);
	g_test_add_func("/acpi/refused", test_refused);
	PM_TEST("/acpi/pm/power-on-state", test_power_on_state);
	PM_TEST("/acpi/pm/power-button", test_power_button);
	PM_TEST("/acpi/pm/enable-bits", test_enable_bits);
	PM_TEST("/acpi/pm/sleep", test_sleep);
	PM_TEST("/acpi/pm/timer", test_timer);
	return g_test_run();
}
