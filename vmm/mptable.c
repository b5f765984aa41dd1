/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "mptable.h"

#include <cpuid.h>
#include <string.h>

#include "error.h"
#include "layout.h"

/* MP spec 1.4 §4.1: the floating pointer structure, 16 bytes. */
struct mp_floating_pointer {
	char signature[4];		/* "_MP_" */
	uint32_t config_table;
	uint8_t length;			/* in 16-byte units */
	uint8_t spec_rev;		/* 4 = version 1.4 */
	uint8_t checksum;
	uint8_t features[5];		/* feature byte 1 = 0: a table follows */
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct mp_floating_pointer) == 16);

/* §4.2: configuration table header, 44 bytes. */
struct mp_config_header {
	char signature[4];		/* "PCMP" */
	uint16_t length;		/* header plus base entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct mp_config_header) == 44);

/* §4.3.1: processor entry, 20 bytes. */
struct mp_processor {
	uint8_t type;			/* 0 */
	uint8_t lapic_id;
	uint8_t lapic_version;
	uint8_t cpu_flags;		/* bit 0 enabled, bit 1 bootstrap processor */
	uint32_t signature;		/* CPUID.1:EAX stepping/model/family */
	uint32_t feature_flags;		/* CPUID.1:EDX */
	uint32_t reserved[2];
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct mp_processor) == 20);

/* §4.3.2: bus entry, 8 bytes. */
struct mp_bus {
	uint8_t type;			/* 1 */
	uint8_t bus_id;
	char bus_type[6];
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct mp_bus) == 8);

/* §4.3.3: I/O APIC entry, 8 bytes. */
struct mp_ioapic {
	uint8_t type;			/* 2 */
	uint8_t ioapic_id;
	uint8_t version;
	uint8_t flags;			/* bit 0 enabled */
	uint32_t address;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct mp_ioapic) == 8);

/* §4.3.4 / §4.3.5: I/O and local interrupt assignment entries, 8 bytes. */
struct mp_interrupt {
	uint8_t type;			/* 3 I/O, 4 local */
	uint8_t irq_type;		/* 0 INT, 1 NMI, 2 SMI, 3 ExtINT */
	uint16_t flags;			/* polarity/trigger; 0 = conforms to bus */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;		/* I/O APIC ID, or 0xff = every local APIC */
	uint8_t dst_pin;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct mp_interrupt) == 8);

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IO_INTERRUPT, MP_LOCAL_INTERRUPT };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MP_CPU_ENABLED		0x01
#define MP_CPU_BSP		0x02
#define LAPIC_VERSION		0x14
#define IOAPIC_VERSION		0x11
#define IOAPIC_ID		0
#define BUS_ID_PCI		0
#define BUS_ID_ISA		1
#define ISA_IRQS		16

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

static struct mp_interrupt interrupt_entry(uint8_t type, uint8_t irq_type, uint8_t src_bus,
					   uint8_t src_irq, uint8_t dst_apic, uint8_t dst_pin)
{
	return (struct mp_interrupt){ .type = type, .irq_type = irq_type, .src_bus = src_bus,
				      .src_irq = src_irq, .dst_apic = dst_apic, .dst_pin = dst_pin };
}

bool mptable_write(const struct guest_memory *mem, unsigned int nr_cpus, GError **error)
{
	/* Enough room for the largest table we build. */
	uint8_t table[sizeof(struct mp_config_header) + MPTABLE_MAX_CPUS * sizeof(struct mp_processor) +
		      2 * sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +
		      (ISA_IRQS + 2) * sizeof(struct mp_interrupt)];
	struct mp_config_header *header = (struct mp_config_header *)table;
	struct mp_floating_pointer fp = { .signature = { '_', 'M', 'P', '_' } };
	unsigned int eax = 0, ebx, ecx, edx = 0;
	uint8_t *p = table + sizeof(*header);
	uint16_t entries = 0;
	uint64_t table_addr = LAYOUT_BIOS_AREA_ADDR + sizeof(fp);
	uint16_t bda_ebda_segment = LAYOUT_EBDA_ADDR >> 4, bda_base_kib = LAYOUT_EBDA_ADDR >> 10;

	if (nr_cpus == 0 || nr_cpus > MPTABLE_MAX_CPUS) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the MP table describes 1 to %d CPUs, not %u", MPTABLE_MAX_CPUS, nr_cpus);
		return false;
	}
	memset(table, 0, sizeof(table));
	__get_cpuid(1, &eax, &ebx, &ecx, &edx);

	for (unsigned int cpu = 0; cpu < nr_cpus; cpu++) {
		struct mp_processor entry = {
			.type = MP_PROCESSOR, .lapic_id = (uint8_t)cpu, .lapic_version = LAPIC_VERSION,
			.cpu_flags = MP_CPU_ENABLED | (cpu == 0 ? MP_CPU_BSP : 0),
			.signature = eax, .feature_flags = edx,
		};

		memcpy(p, &entry, sizeof(entry));
		p += sizeof(entry);
		entries++;
	}

	struct mp_bus buses[] = {
		{ .type = MP_BUS, .bus_id = BUS_ID_PCI, .bus_type = { 'P', 'C', 'I', ' ', ' ', ' ' } },
		{ .type = MP_BUS, .bus_id = BUS_ID_ISA, .bus_type = { 'I', 'S', 'A', ' ', ' ', ' ' } },
	};
	memcpy(p, buses, sizeof(buses));
	p += sizeof(buses);
	entries += G_N_ELEMENTS(buses);

	struct mp_ioapic ioapic = { .type = MP_IOAPIC, .ioapic_id = IOAPIC_ID, .version = IOAPIC_VERSION,
				    .flags = 1, .address = (uint32_t)LAYOUT_IOAPIC_ADDR };
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);
	entries++;

	/*
	 * ISA IRQs: the PIT's IRQ 0 is wired to I/O APIC pin 2 (the usual PC
	 * override); IRQ n>0 to pin n.  The 8259s reach the CPUs through LINT0
	 * (virtual wire mode), not through an I/O APIC pin.
	 */
	struct mp_interrupt irqs[ISA_IRQS + 2];
	unsigned int n = 0;

	for (unsigned int irq = 0; irq < ISA_IRQS; irq++) {
		if (irq == 2)
			continue;	/* the slave PIC's cascade input */
		irqs[n++] = interrupt_entry(MP_IO_INTERRUPT, MP_INT, BUS_ID_ISA, (uint8_t)irq, IOAPIC_ID,
					    irq == 0 ? 2 : (uint8_t)irq);
	}
	/* Every local APIC: LINT0 takes the 8259 (virtual wire), LINT1 NMI. */
	irqs[n++] = interrupt_entry(MP_LOCAL_INTERRUPT, MP_EXTINT, BUS_ID_ISA, 0, 0xff, 0);
	irqs[n++] = interrupt_entry(MP_LOCAL_INTERRUPT, MP_NMI, BUS_ID_ISA, 0, 0xff, 1);
	memcpy(p, irqs, n * sizeof(irqs[0]));
	p += n * sizeof(irqs[0]);
	entries = (uint16_t)(entries + n);

	memcpy(header->signature, "PCMP", 4);
	header->length = (uint16_t)(p - table);
	header->spec_rev = 4;
	memcpy(header->oem_id, "VESSEL  ", 8);
	memcpy(header->product_id, "VESSEL PC   ", 12);
	header->entry_count = entries;
	header->lapic_addr = (uint32_t)LAYOUT_LAPIC_ADDR;
	header->checksum = checksum(table, header->length);

	fp.config_table = (uint32_t)table_addr;
	fp.length = 1;
	fp.spec_rev = 4;
	fp.checksum = checksum((const uint8_t *)&fp, sizeof(fp));

	/* BIOS data area: EBDA segment (0x40E) and base memory in KiB (0x413). */
	if (!guest_memory_write(mem, LAYOUT_BIOS_AREA_ADDR, &fp, sizeof(fp)) ||
	    !guest_memory_write(mem, table_addr, table, header->length) ||
	    !guest_memory_write(mem, 0x40e, &bda_ebda_segment, 2) ||
	    !guest_memory_write(mem, 0x413, &bda_base_kib, 2)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "the MP table does not fit in guest memory");
		return false;
	}
	return true;
}
