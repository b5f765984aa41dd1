/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "mptable.h"
#include "printf.h"
#include "string.h"

/* MP spec 1.4 §4.1, table 4-1: MP floating pointer structure. */
struct mp_floating_pointer {
	char signature[4];		/* "_MP_" */
	uint32_t config_table_addr;
	uint8_t length;			/* in 16-byte units: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t features[5];		/* features[0] != 0: default config */
} __attribute__((packed));

/* §4.2, table 4-2: MP configuration table header. */
struct mp_config_header {
	char signature[4];		/* "PCMP" */
	uint16_t base_length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table_addr;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

/* §4.3: base table entry types and their lengths. */
#define MP_ENTRY_PROCESSOR	0	/* 20 bytes */
#define MP_ENTRY_BUS		1	/* 8 bytes */
#define MP_ENTRY_IOAPIC		2	/* 8 bytes */
#define MP_ENTRY_IO_INTERRUPT	3	/* 8 bytes */
#define MP_ENTRY_LOCAL_INTERRUPT 4	/* 8 bytes */

#define MP_CPU_ENABLED		0x01	/* §4.3.1 CPU flags */
#define MP_CPU_BSP		0x02
#define MP_IOAPIC_ENABLED	0x01

#define BDA_EBDA_SEGMENT	0x40e	/* BIOS data area word */
#define BDA_BASE_MEMORY_KIB	0x413

#define MP_MAX_BUSES		32

static uint8_t checksum(const void *p, unsigned int len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (unsigned int i = 0; i < len; i++)
		sum += b[i];
	return sum;
}

static const struct mp_floating_pointer *mp_scan(uint32_t start, uint32_t len)
{
	/* §4: the structure starts on a 16-byte boundary. */
	for (uint32_t addr = start & ~15u; addr + 16 <= start + len; addr += 16) {
		const struct mp_floating_pointer *fp =
			(const void *)(uintptr_t)addr;

		if (!memcmp(fp->signature, "_MP_", 4) && fp->length == 1 &&
		    !checksum(fp, 16))
			return fp;
	}
	return NULL;
}

/*
 * §4 lists where to look: the first KiB of the EBDA, else the last KiB of
 * base memory, else the BIOS ROM between 0xF0000 and 0xFFFFF.
 */
static const struct mp_floating_pointer *mp_find(void)
{
	uint32_t ebda = (uint32_t)*(volatile uint16_t *)BDA_EBDA_SEGMENT << 4;
	uint32_t base_kib = *(volatile uint16_t *)BDA_BASE_MEMORY_KIB;
	const struct mp_floating_pointer *fp = NULL;

	if (ebda)
		fp = mp_scan(ebda, 1024);
	if (!fp && base_kib >= 1 && base_kib <= 640)
		fp = mp_scan(base_kib * 1024 - 1024, 1024);
	if (!fp)
		fp = mp_scan(639 * 1024, 1024);
	if (!fp)
		fp = mp_scan(0xf0000, 0x10000);
	return fp;
}

bool mptable_parse(struct mp_config *config)
{
	const struct mp_floating_pointer *fp = mp_find();
	const struct mp_config_header *hdr;
	const uint8_t *entry, *end;
	bool bus_isa[MP_MAX_BUSES] = { false };

	memset(config, 0, sizeof(*config));
	if (!fp) {
		printf("mptable: no MP floating pointer found\n");
		return false;
	}
	config->floating_pointer_addr = (uint32_t)(uintptr_t)fp;
	if (fp->features[0]) {
		printf("mptable: default configuration %u, no table\n",
		       fp->features[0]);
		return false;
	}
	if (!fp->config_table_addr || fp->config_table_addr >= 0x100000) {
		printf("mptable: implausible table address %#x\n",
		       fp->config_table_addr);
		return false;
	}
	hdr = (const void *)(uintptr_t)fp->config_table_addr;
	config->table_addr = fp->config_table_addr;
	if (memcmp(hdr->signature, "PCMP", 4)) {
		printf("mptable: bad table signature at %#x\n",
		       config->table_addr);
		return false;
	}
	if (hdr->base_length < sizeof(*hdr) ||
	    checksum(hdr, hdr->base_length)) {
		printf("mptable: bad length %u or checksum\n", hdr->base_length);
		return false;
	}
	config->lapic_addr = hdr->lapic_addr;

	entry = (const uint8_t *)(hdr + 1);
	end = (const uint8_t *)hdr + hdr->base_length;
	for (unsigned int i = 0; i < hdr->entry_count; i++) {
		unsigned int len = entry[0] == MP_ENTRY_PROCESSOR ? 20 : 8;

		if (entry + len > end) {
			printf("mptable: entry %u runs past the table\n", i);
			return false;
		}
		switch (entry[0]) {
		case MP_ENTRY_PROCESSOR:	/* §4.3.1 */
			if ((entry[3] & MP_CPU_ENABLED) &&
			    config->cpu_count < MP_MAX_CPUS) {
				struct mp_cpu *cpu =
					&config->cpus[config->cpu_count++];

				cpu->apic_id = entry[1];
				cpu->bsp = entry[3] & MP_CPU_BSP;
			}
			break;
		case MP_ENTRY_BUS:		/* §4.3.2 */
			if (entry[1] < MP_MAX_BUSES)
				bus_isa[entry[1]] = !memcmp(entry + 2, "ISA   ", 6);
			break;
		case MP_ENTRY_IOAPIC:		/* §4.3.3 */
			if ((entry[3] & MP_IOAPIC_ENABLED) &&
			    !config->ioapic_count++) {
				config->ioapic_id = entry[1];
				memcpy(&config->ioapic_addr, entry + 4, 4);
			}
			break;
		case MP_ENTRY_IO_INTERRUPT:	/* §4.3.4 */
			if (config->irq_count < MP_MAX_IRQ_ENTRIES) {
				struct mp_irq *irq =
					&config->irqs[config->irq_count++];

				irq->type = entry[1];
				memcpy(&irq->flags, entry + 2, 2);
				irq->src_bus_id = entry[4];
				irq->src_bus_irq = entry[5];
				irq->dst_ioapic_id = entry[6];
				irq->dst_ioapic_pin = entry[7];
			}
			break;
		case MP_ENTRY_LOCAL_INTERRUPT:	/* §4.3.5 */
			break;
		default:
			printf("mptable: unknown entry type %u\n", entry[0]);
			return false;
		}
		entry += len;
	}
	/* Buses may be listed after the interrupts that name them. */
	for (unsigned int i = 0; i < config->irq_count; i++) {
		struct mp_irq *irq = &config->irqs[i];

		irq->src_bus_isa = irq->src_bus_id < MP_MAX_BUSES &&
				   bus_isa[irq->src_bus_id];
	}
	return true;
}

const struct mp_irq *mptable_find_isa_irq(const struct mp_config *config,
					  uint8_t irq)
{
	for (unsigned int i = 0; i < config->irq_count; i++) {
		const struct mp_irq *e = &config->irqs[i];

		/* Type 0: a vectored interrupt routed through the IOAPIC. */
		if (e->type == 0 && e->src_bus_isa && e->src_bus_irq == irq)
			return e;
	}
	return NULL;
}
