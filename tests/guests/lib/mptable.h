/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_MPTABLE_H
#define GUEST_MPTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define MP_MAX_CPUS		16
#define MP_MAX_IRQ_ENTRIES	32

struct mp_cpu {
	uint8_t apic_id;
	bool bsp;
};

struct mp_irq {
	uint8_t type;		/* 0 INT, 1 NMI, 2 SMI, 3 ExtINT */
	uint16_t flags;		/* polarity bits 1:0, trigger mode bits 3:2 */
	uint8_t src_bus_id;
	uint8_t src_bus_irq;
	uint8_t dst_ioapic_id;
	uint8_t dst_ioapic_pin;
	bool src_bus_isa;
};

/* What the guests need from the MP configuration table. */
struct mp_config {
	uint32_t floating_pointer_addr;
	uint32_t table_addr;
	uint32_t lapic_addr;
	unsigned int cpu_count;		/* enabled processor entries */
	struct mp_cpu cpus[MP_MAX_CPUS];
	unsigned int ioapic_count;
	uint8_t ioapic_id;		/* the first one */
	uint32_t ioapic_addr;
	unsigned int irq_count;
	struct mp_irq irqs[MP_MAX_IRQ_ENTRIES];
};

/*
 * Finds the floating pointer (MP spec 1.4 §4) and parses the configuration
 * table it points to; prints why and returns false if anything is wrong
 * (signatures, checksums, lengths, no default-configuration support).
 */
bool mptable_parse(struct mp_config *config);
/*
 * The IOAPIC pin that ISA IRQ `irq` arrives on, from the I/O interrupt
 * assignment entries (§4.3.4); NULL if none mentions it (then the pin
 * is the IRQ number, MP spec 1.4 §5.1 default configurations).
 */
const struct mp_irq *mptable_find_isa_irq(const struct mp_config *config,
					  uint8_t irq);

#endif
