/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI tables of the Vessel PC, written as firmware would leave them
 * (ACPI 6.5 §5.2): an RSDP in the BIOS area, where guests scan for it
 * (§5.2.5.1), pointing to an RSDT and an XSDT, which list the FADT and the
 * MADT.  The FADT points to the FACS and the DSDT.
 *
 * Only what a guest needs to use the fixed hardware of acpi_pm.c and to
 * keep its view of the machine: the DSDT holds \_S5 (so the guest can
 * power off) and the PCI root bridge (an OS that uses ACPI finds PCI buses
 * only through PNP0A03 devices); the MADT repeats what the MP table says
 * about CPUs and interrupts, since an OS that finds a MADT ignores the MP
 * table.
 */
#include "acpi.h"

#include <stddef.h>
#include <string.h>

#include "error.h"
#include "layout.h"
#include "mptable.h"

#define OEM_ID		"VESSEL"	/* 6 bytes */
#define OEM_TABLE_ID	"VESSELPC"	/* 8 bytes */
#define CREATOR_ID	"VSSL"

/* §5.2.5.3: Root System Description Pointer, revision 2 (ACPI 2.0+). */
struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* of the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;		/* 2 */
	uint32_t rsdt_address;
	uint32_t length;		/* of the whole RSDP: 36 */
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct acpi_rsdp) == 36);

/* §5.2.6: the header every description table starts with. */
struct acpi_header {
	char signature[4];
	uint32_t length;		/* of the table, header included */
	uint8_t revision;
	uint8_t checksum;		/* the whole table sums to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct acpi_header) == 36);

/* §5.2.3.2: Generic Address Structure (left zero: the 32-bit fields are used). */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

/* §5.2.9, Table 5.9: Fixed ACPI Description Table, revision 6. */
struct acpi_fadt {
	struct acpi_header header;	/* "FACP" */
	uint32_t firmware_ctrl;		/* the FACS */
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_identity;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct acpi_fadt) == 276);
G_STATIC_ASSERT(offsetof(struct acpi_fadt, pm1a_evt_blk) == 56);
G_STATIC_ASSERT(offsetof(struct acpi_fadt, flags) == 112);
G_STATIC_ASSERT(offsetof(struct acpi_fadt, x_dsdt) == 140);

/* FADT flags (§5.2.9.3, Table 5.10) and IA-PC boot flags (§5.2.9.3, Table 5.11). */
#define FADT_WBINVD		(1u << 0)
#define FADT_PROC_C1		(1u << 2)
#define FADT_PWR_BUTTON		(1u << 4)	/* set: no fixed-feature power button */
#define FADT_SLP_BUTTON		(1u << 5)	/* set: no fixed-feature sleep button */
#define FADT_FIX_RTC		(1u << 6)	/* RTC wake status not in PM1 */
#define FADT_TMR_VAL_EXT	(1u << 8)	/* the PM timer counts 32 bits */
#define IAPC_LEGACY_DEVICES	(1u << 0)	/* ISA devices (serial, RTC, PIC, PIT) */
#define IAPC_8042		(1u << 1)	/* a PS/2 controller at 0x60/0x64 */

/* §5.2.10: Firmware ACPI Control Structure; no checksum, 64-byte aligned. */
struct acpi_facs {
	char signature[4];		/* "FACS" */
	uint32_t length;		/* 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;		/* 2 */
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct acpi_facs) == 64);

/* §5.2.12: Multiple APIC Description Table and its interrupt controller structures. */
struct acpi_madt {
	struct acpi_header header;	/* "APIC" */
	uint32_t local_apic_address;
	uint32_t flags;			/* bit 0 PCAT_COMPAT: 8259s present too */
} __attribute__((packed));

struct madt_local_apic {		/* §5.2.12.2, type 0 */
	uint8_t type, length;		/* 0, 8 */
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;			/* bit 0 enabled */
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct madt_local_apic) == 8);

struct madt_io_apic {			/* §5.2.12.3, type 1 */
	uint8_t type, length;		/* 1, 12 */
	uint8_t io_apic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct madt_io_apic) == 12);

struct madt_interrupt_override {	/* §5.2.12.5, type 2 */
	uint8_t type, length;		/* 2, 10 */
	uint8_t bus;			/* 0: ISA */
	uint8_t source;			/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;			/* MPS INTI flags (Table 5.26) */
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct madt_interrupt_override) == 10);

struct madt_local_apic_nmi {		/* §5.2.12.7, type 4 */
	uint8_t type, length;		/* 4, 6 */
	uint8_t processor_uid;		/* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct madt_local_apic_nmi) == 6);

enum { MADT_LOCAL_APIC, MADT_IO_APIC, MADT_INTERRUPT_OVERRIDE, MADT_NMI_SOURCE, MADT_LOCAL_APIC_NMI };

#define MADT_PCAT_COMPAT	1
#define MADT_ENABLED		1
/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2; 0 conforms to the bus. */
#define MPS_INTI_ACTIVE_HIGH	0x1
#define MPS_INTI_LEVEL		0xc

#define IO_APIC_ID		0	/* as in the MP table */

/* What the tables are built in before they go to guest memory. */
struct acpi_area {
	uint8_t bytes[LAYOUT_ACPI_SIZE];
	size_t used;
};

/* Reserves size bytes at the given alignment; returns the offset, or -1. */
static ptrdiff_t area_alloc(struct acpi_area *area, size_t size, size_t align)
{
	size_t offset = (area->used + align - 1) & ~(align - 1);

	if (offset + size > sizeof(area->bytes))
		return -1;
	area->used = offset + size;
	return (ptrdiff_t)offset;
}

static uint8_t checksum(const uint8_t *bytes, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + bytes[i]);
	return (uint8_t)-sum;
}

static void fill_header(uint8_t *table, const char signature[4], uint32_t length, uint8_t revision)
{
	struct acpi_header header = {
		.length = length, .revision = revision, .oem_revision = 1, .creator_revision = 1,
	};

	memcpy(header.signature, signature, 4);
	memcpy(header.oem_id, OEM_ID, 6);
	memcpy(header.oem_table_id, OEM_TABLE_ID, 8);
	memcpy(header.creator_id, CREATOR_ID, 4);
	memcpy(table, &header, sizeof(header));
}

/* Call when the table's bytes are final. */
static void seal_table(uint8_t *table)
{
	struct acpi_header *header = (struct acpi_header *)table;

	header->checksum = 0;
	header->checksum = checksum(table, header->length);
}

/*
 * AML, the DSDT's byte code (§20.2, "AML Grammar Definition").  The DSDT is
 *
 *   Name (\_S5, Package () { 5, 5, 0, 0 })
 *   Scope (\_SB) {
 *     Device (PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))
 *       Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () { bus 0-255, I/O 0xCF8-0xCFF,
 *             I/O windows around it, VGA window, the 32-bit PCI hole })
 *     }
 *   }
 */
enum {
	AML_ZERO_OP = 0x00,
	AML_ONE_OP = 0x01,
	AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b,
	AML_DWORD_PREFIX = 0x0c,
	AML_QWORD_PREFIX = 0x0e,
	AML_SCOPE_OP = 0x10,
	AML_BUFFER_OP = 0x11,
	AML_PACKAGE_OP = 0x12,
	AML_ROOT_CHAR = 0x5c,		/* '\' */
	AML_EXT_OP_PREFIX = 0x5b,
	AML_EXT_DEVICE_OP = 0x82,	/* after AML_EXT_OP_PREFIX */
};

static void aml_byte(GByteArray *aml, uint8_t byte)
{
	g_byte_array_append(aml, &byte, 1);
}

static void aml_le(GByteArray *aml, uint64_t value, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		aml_byte(aml, (uint8_t)(value >> (8 * i)));
}

/*
 * §20.2.4 PkgLength: the length of the package from the PkgLength itself to
 * its end.  Below 64 one byte holds it; otherwise bits 7:6 of the lead byte
 * count 1-3 following bytes, its bits 3:0 are the lowest nibble and the
 * following bytes the next 8 bits each.
 */
static void aml_pkg_length(GByteArray *aml, size_t body_len)
{
	if (body_len + 1 < 0x40) {
		aml_byte(aml, (uint8_t)(body_len + 1));
		return;
	}
	for (unsigned int follow = 1; follow <= 3; follow++) {
		size_t len = body_len + 1 + follow;

		if (len < (1ul << (4 + 8 * follow))) {
			aml_byte(aml, (uint8_t)(follow << 6 | (len & 0x0f)));
			aml_le(aml, len >> 4, follow);
			return;
		}
	}
	g_assert_not_reached();		/* 256 MiB: never for these tables */
}

/* op (1 or 2 bytes), PkgLength, body: Scope, Device, Package, Buffer. */
static void aml_package(GByteArray *aml, const uint8_t *op, size_t op_len, GByteArray *body)
{
	g_byte_array_append(aml, op, (guint)op_len);
	aml_pkg_length(aml, body->len);
	g_byte_array_append(aml, body->data, body->len);
	g_byte_array_free(body, TRUE);
}

/* §20.2.3 ComputationalData: the shortest encoding of an integer. */
static void aml_integer(GByteArray *aml, uint64_t value)
{
	if (value <= 1) {
		aml_byte(aml, value ? AML_ONE_OP : AML_ZERO_OP);
	} else if (value <= 0xff) {
		aml_byte(aml, AML_BYTE_PREFIX);
		aml_le(aml, value, 1);
	} else if (value <= 0xffff) {
		aml_byte(aml, AML_WORD_PREFIX);
		aml_le(aml, value, 2);
	} else if (value <= 0xffffffff) {
		aml_byte(aml, AML_DWORD_PREFIX);
		aml_le(aml, value, 4);
	} else {
		aml_byte(aml, AML_QWORD_PREFIX);
		aml_le(aml, value, 8);
	}
}

/* §20.2.2 NameSeg: exactly four characters, '_'-padded by the caller. */
static void aml_name_seg(GByteArray *aml, const char seg[4])
{
	g_byte_array_append(aml, (const guint8 *)seg, 4);
}

/* DefName := NameOp NameString DataRefObject; the object follows. */
static void aml_name_op(GByteArray *aml, const char seg[4])
{
	aml_byte(aml, AML_NAME_OP);
	aml_name_seg(aml, seg);
}

/* §6.4.3.5.3 / §6.4.3.5.2: Word / DWord Address Space Descriptors. */
#define RES_WORD_ADDRESS	0x88
#define RES_DWORD_ADDRESS	0x87
#define RES_TYPE_MEMORY		0
#define RES_TYPE_IO		1
#define RES_TYPE_BUS		2
/* General flags: bit 3 _MAF, bit 2 _MIF (fixed max/min), bit 0 clear: a producer (window). */
#define RES_WINDOW_FIXED	0x0c
#define RES_IO_ENTIRE_RANGE	0x03	/* I/O _RNG: ISA and non-ISA ports */
#define RES_MEM_READ_WRITE	0x01	/* _RW set, _MEM non-cacheable */

static void res_word_window(GByteArray *res, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
	aml_byte(res, RES_WORD_ADDRESS);
	aml_le(res, 13, 2);			/* length of the rest */
	aml_byte(res, type);
	aml_byte(res, RES_WINDOW_FIXED);
	aml_byte(res, type_flags);
	aml_le(res, 0, 2);			/* _GRA */
	aml_le(res, min, 2);
	aml_le(res, max, 2);
	aml_le(res, 0, 2);			/* _TRA */
	aml_le(res, (uint32_t)max - min + 1, 2);	/* _LEN */
}

static void res_dword_window(GByteArray *res, uint8_t type, uint8_t type_flags, uint32_t min, uint32_t max)
{
	aml_byte(res, RES_DWORD_ADDRESS);
	aml_le(res, 23, 2);
	aml_byte(res, type);
	aml_byte(res, RES_WINDOW_FIXED);
	aml_byte(res, type_flags);
	aml_le(res, 0, 4);
	aml_le(res, min, 4);
	aml_le(res, max, 4);
	aml_le(res, 0, 4);
	aml_le(res, (uint64_t)max - min + 1, 4);
}

/* §6.4.2.5 I/O Port Descriptor (16-bit decode), consumed by the bridge. */
static void res_io(GByteArray *res, uint16_t base, uint8_t len)
{
	aml_byte(res, 0x47);
	aml_byte(res, 0x01);			/* decodes 16 address bits */
	aml_le(res, base, 2);			/* _MIN */
	aml_le(res, base, 2);			/* _MAX */
	aml_byte(res, 1);			/* _ALN */
	aml_byte(res, len);
}

#define PCI_CONFIG_PORTS	0xcf8

/* Name (_CRS, ResourceTemplate () {...}) of the PCI root bridge. */
static void aml_pci_crs(GByteArray *aml)
{
	GByteArray *res = g_byte_array_new(), *buffer = g_byte_array_new();
	const uint8_t op = AML_BUFFER_OP;

	res_word_window(res, RES_TYPE_BUS, 0, 0x00, 0xff);
	res_io(res, PCI_CONFIG_PORTS, 8);
	res_word_window(res, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0x0000, PCI_CONFIG_PORTS - 1);
	res_word_window(res, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, PCI_CONFIG_PORTS + 8, 0xffff);
	res_dword_window(res, RES_TYPE_MEMORY, RES_MEM_READ_WRITE, LAYOUT_VGA_HOLE_ADDR, 0xbffff);
	res_dword_window(res, RES_TYPE_MEMORY, RES_MEM_READ_WRITE, LAYOUT_PCI_MMIO_START, LAYOUT_PCI_MMIO_END);
	/* §6.4.2.9 End Tag; a zero checksum counts as correct. */
	aml_byte(res, 0x79);
	aml_byte(res, 0x00);

	/* DefBuffer := BufferOp PkgLength BufferSize ByteList */
	aml_integer(buffer, res->len);
	g_byte_array_append(buffer, res->data, res->len);
	g_byte_array_free(res, TRUE);
	aml_name_op(aml, "_CRS");
	aml_package(aml, &op, 1, buffer);
}

/* PNP0A03 as an EISA ID (§6.1.5 _HID): compressed vendor letters, product. */
#define EISA_ID_PNP0A03		0x030ad041u

static GByteArray *build_dsdt_aml(void)
{
	GByteArray *aml = g_byte_array_new();
	GByteArray *s5 = g_byte_array_new(), *sb = g_byte_array_new(), *pci0 = g_byte_array_new();
	static const uint8_t package_op = AML_PACKAGE_OP, scope_op = AML_SCOPE_OP;
	static const uint8_t device_op[] = { AML_EXT_OP_PREFIX, AML_EXT_DEVICE_OP };
	static const uint8_t root_sb[] = { AML_ROOT_CHAR, '_', 'S', 'B', '_' };

	/*
	 * Name (_S5, Package () { 5, 5, 0, 0 }): the SLP_TYP values for
	 * PM1a_CNT and PM1b_CNT in S5 (§7.4.2), then two reserved.
	 * DefPackage := PackageOp PkgLength NumElements PackageElementList.
	 */
	aml_name_op(aml, "_S5_");
	aml_byte(s5, 4);				/* NumElements */
	aml_integer(s5, ACPI_SLP_TYP_S5);		/* 0A 05 */
	aml_integer(s5, ACPI_SLP_TYP_S5);
	aml_integer(s5, 0);				/* 00 */
	aml_integer(s5, 0);
	aml_package(aml, &package_op, 1, s5);

	/* DefDevice := ExtOpPrefix DeviceOp PkgLength NameString TermList */
	aml_name_seg(pci0, "PCI0");
	aml_name_op(pci0, "_HID");
	aml_integer(pci0, EISA_ID_PNP0A03);
	aml_name_op(pci0, "_UID");
	aml_integer(pci0, 0);
	aml_pci_crs(pci0);

	/* DefScope := ScopeOp PkgLength NameString TermList */
	g_byte_array_append(sb, root_sb, sizeof(root_sb));
	aml_package(sb, device_op, sizeof(device_op), pci0);
	aml_package(aml, &scope_op, 1, sb);
	return aml;
}

static ptrdiff_t write_madt(struct acpi_area *area, unsigned int nr_cpus)
{
	size_t length = sizeof(struct acpi_madt) + nr_cpus * sizeof(struct madt_local_apic) +
			sizeof(struct madt_io_apic) + 2 * sizeof(struct madt_interrupt_override) +
			sizeof(struct madt_local_apic_nmi);
	ptrdiff_t at = area_alloc(area, length, 16);
	uint8_t *table, *p;

	if (at < 0)
		return -1;
	table = area->bytes + at;
	struct acpi_madt madt = { .local_apic_address = (uint32_t)LAYOUT_LAPIC_ADDR,
				  .flags = MADT_PCAT_COMPAT };
	memcpy(table, &madt, sizeof(madt));
	fill_header(table, "APIC", (uint32_t)length, 5);
	p = table + sizeof(madt);

	/* APIC IDs 0..n-1, CPU 0 first: the boot processor (§5.2.12.2). */
	for (unsigned int cpu = 0; cpu < nr_cpus; cpu++) {
		struct madt_local_apic lapic = { .type = MADT_LOCAL_APIC, .length = sizeof(lapic),
						 .processor_uid = (uint8_t)cpu, .apic_id = (uint8_t)cpu,
						 .flags = MADT_ENABLED };

		memcpy(p, &lapic, sizeof(lapic));
		p += sizeof(lapic);
	}
	struct madt_io_apic ioapic = { .type = MADT_IO_APIC, .length = sizeof(ioapic),
				       .io_apic_id = IO_APIC_ID, .address = (uint32_t)LAYOUT_IOAPIC_ADDR };
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);

	/*
	 * Without an override ISA IRQ n is GSI n, edge, active high
	 * (§5.2.12.5).  Two differ: the PIT's IRQ 0 is wired to pin 2, as in
	 * the MP table, and the SCI is level-triggered; without an override
	 * an OS takes it as active low (§5.2.9, SCI_INT), but acpi_pm.c
	 * drives it active high.
	 */
	struct madt_interrupt_override overrides[] = {
		{ .type = MADT_INTERRUPT_OVERRIDE, .length = sizeof(overrides[0]), .source = 0, .gsi = 2 },
		{ .type = MADT_INTERRUPT_OVERRIDE, .length = sizeof(overrides[0]), .source = ACPI_SCI_GSI,
		  .gsi = ACPI_SCI_GSI, .flags = MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL },
	};
	memcpy(p, overrides, sizeof(overrides));
	p += sizeof(overrides);

	/* LINT1 of every local APIC is NMI (the MP table's local interrupt entry). */
	struct madt_local_apic_nmi nmi = { .type = MADT_LOCAL_APIC_NMI, .length = sizeof(nmi),
					   .processor_uid = 0xff, .lint = 1 };
	memcpy(p, &nmi, sizeof(nmi));
	p += sizeof(nmi);
	g_assert((size_t)(p - table) == length);
	seal_table(table);
	return at;
}

static ptrdiff_t write_fadt(struct acpi_area *area, uint32_t facs_addr, uint32_t dsdt_addr)
{
	ptrdiff_t at = area_alloc(area, sizeof(struct acpi_fadt), 16);
	struct acpi_fadt fadt = {
		.firmware_ctrl = facs_addr,
		.dsdt = dsdt_addr,
		.sci_int = ACPI_SCI_GSI,
		/*
		 * SMI_CMD 0: no SMM, the hardware is always in ACPI mode
		 * (SCI_EN reads 1), so the OS never asks to switch.
		 */
		.smi_cmd = 0,
		.pm1a_evt_blk = ACPI_PM_PORT + ACPI_PM1_EVT_OFFSET,
		.pm1a_cnt_blk = ACPI_PM_PORT + ACPI_PM1_CNT_OFFSET,
		.pm_tmr_blk = ACPI_PM_PORT + ACPI_PM_TMR_OFFSET,
		.pm1_evt_len = 4,
		.pm1_cnt_len = 2,
		.pm_tmr_len = 4,
		/* No GPE blocks.  Latencies above 100 / 1000 µs: no C2, no C3. */
		.p_lvl2_lat = 101,
		.p_lvl3_lat = 1001,
		.century = 0x32,		/* CMOS_CENTURY of rtc.h */
		.iapc_boot_arch = IAPC_LEGACY_DEVICES | IAPC_8042,
		/* PWR_BUTTON clear: the power button is the fixed-feature one. */
		.flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_TMR_VAL_EXT,
		.minor_version = 5,		/* ACPI 6.5 */
	};

	if (at < 0)
		return -1;
	memcpy(area->bytes + at, &fadt, sizeof(fadt));
	fill_header(area->bytes + at, "FACP", sizeof(fadt), 6);
	seal_table(area->bytes + at);
	return at;
}

bool acpi_tables_write(const struct guest_memory *mem, unsigned int nr_cpus, GError **error)
{
	g_autofree struct acpi_area *area = g_new0(struct acpi_area, 1);
	g_autoptr(GByteArray) dsdt_aml = build_dsdt_aml();
	struct acpi_rsdp rsdp = { .revision = 2, .length = sizeof(rsdp) };
	struct acpi_facs facs = { .length = sizeof(facs), .version = 2 };
	ptrdiff_t rsdp_at, facs_at, dsdt_at, fadt_at, madt_at, rsdt_at, xsdt_at;
	const uint64_t base = LAYOUT_ACPI_ADDR;
	uint64_t entries[2];

	if (nr_cpus == 0 || nr_cpus > MPTABLE_MAX_CPUS) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the ACPI tables describe 1 to %d CPUs, not %u", MPTABLE_MAX_CPUS, nr_cpus);
		return false;
	}
	rsdp_at = area_alloc(area, sizeof(rsdp), 16);		/* §5.2.5.1: 16-byte boundary */
	facs_at = area_alloc(area, sizeof(facs), 64);		/* §5.2.10: 64-byte boundary */
	dsdt_at = area_alloc(area, sizeof(struct acpi_header) + dsdt_aml->len, 16);
	if (rsdp_at < 0 || facs_at < 0 || dsdt_at < 0)
		goto too_big;
	memcpy(facs.signature, "FACS", 4);
	memcpy(area->bytes + facs_at, &facs, sizeof(facs));
	/* Revision 2: integers in the DSDT's AML are 64 bits (§5.2.11.1). */
	fill_header(area->bytes + dsdt_at, "DSDT", (uint32_t)(sizeof(struct acpi_header) + dsdt_aml->len), 2);
	memcpy(area->bytes + dsdt_at + sizeof(struct acpi_header), dsdt_aml->data, dsdt_aml->len);
	seal_table(area->bytes + dsdt_at);

	fadt_at = write_fadt(area, (uint32_t)(base + facs_at), (uint32_t)(base + dsdt_at));
	madt_at = write_madt(area, nr_cpus);
	if (fadt_at < 0 || madt_at < 0)
		goto too_big;
	entries[0] = base + fadt_at;
	entries[1] = base + madt_at;

	/* §5.2.7 RSDT (32-bit entries, for ACPI 1.0 readers) and §5.2.8 XSDT. */
	rsdt_at = area_alloc(area, sizeof(struct acpi_header) + G_N_ELEMENTS(entries) * 4, 16);
	xsdt_at = area_alloc(area, sizeof(struct acpi_header) + G_N_ELEMENTS(entries) * 8, 16);
	if (rsdt_at < 0 || xsdt_at < 0)
		goto too_big;
	fill_header(area->bytes + rsdt_at, "RSDT", (uint32_t)(sizeof(struct acpi_header) + G_N_ELEMENTS(entries) * 4), 1);
	fill_header(area->bytes + xsdt_at, "XSDT", (uint32_t)(sizeof(struct acpi_header) + G_N_ELEMENTS(entries) * 8), 1);
	for (unsigned int i = 0; i < G_N_ELEMENTS(entries); i++) {
		uint32_t entry32 = GUINT32_TO_LE((uint32_t)entries[i]);
		uint64_t entry64 = GUINT64_TO_LE(entries[i]);

		memcpy(area->bytes + rsdt_at + sizeof(struct acpi_header) + 4 * i, &entry32, 4);
		memcpy(area->bytes + xsdt_at + sizeof(struct acpi_header) + 8 * i, &entry64, 8);
	}
	seal_table(area->bytes + rsdt_at);
	seal_table(area->bytes + xsdt_at);

	memcpy(rsdp.signature, "RSD PTR ", 8);
	memcpy(rsdp.oem_id, OEM_ID, 6);
	rsdp.rsdt_address = (uint32_t)(base + rsdt_at);
	rsdp.xsdt_address = base + xsdt_at;
	rsdp.checksum = checksum((const uint8_t *)&rsdp, 20);
	rsdp.extended_checksum = checksum((const uint8_t *)&rsdp, sizeof(rsdp));
	memcpy(area->bytes + rsdp_at, &rsdp, sizeof(rsdp));

	if (!guest_memory_write(mem, base, area->bytes, area->used)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "the ACPI tables do not fit in guest memory at 0x%llx",
			    (unsigned long long)base);
		return false;
	}
	return true;

too_big:
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
		    "the ACPI tables for %u CPUs need more than the %llu bytes reserved for them",
		    nr_cpus, (unsigned long long)LAYOUT_ACPI_SIZE);
	return false;
}
