/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ioapic.h"
#include "io.h"

#define IOAPIC_IOREGSEL		0x00
#define IOAPIC_IOWIN		0x10

uint32_t ioapic_read(uint64_t base, uint8_t reg)
{
	mmio_write32(base + IOAPIC_IOREGSEL, reg);
	return mmio_read32(base + IOAPIC_IOWIN);
}

void ioapic_write(uint64_t base, uint8_t reg, uint32_t value)
{
	mmio_write32(base + IOAPIC_IOREGSEL, reg);
	mmio_write32(base + IOAPIC_IOWIN, value);
}

unsigned int ioapic_pin_count(uint64_t base)
{
	return ((ioapic_read(base, IOAPIC_REG_VERSION) >> 16) & 0xff) + 1;
}

void ioapic_route(uint64_t base, unsigned int pin, uint8_t vector,
		  uint32_t flags, uint8_t dest_apic_id)
{
	uint8_t reg = IOAPIC_REG_REDTBL + 2 * pin;

	/* Masked while the halves disagree; the low write unmasks. */
	ioapic_write(base, reg, IOAPIC_RTE_MASKED);
	ioapic_write(base, reg + 1, (uint32_t)dest_apic_id << 24);
	ioapic_write(base, reg, flags | vector);
}

void ioapic_mask(uint64_t base, unsigned int pin)
{
	uint8_t reg = IOAPIC_REG_REDTBL + 2 * pin;

	ioapic_write(base, reg, ioapic_read(base, reg) | IOAPIC_RTE_MASKED);
}
