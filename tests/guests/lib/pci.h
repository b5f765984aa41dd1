/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* PCI Local Bus spec 3.0 §3.2.2.3.2: configuration mechanism #1. */
#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_CONFIG_ENABLE	0x80000000u

/* Type 0/1 header offsets (PCI spec 3.0 §6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_REVISION_CLASS	0x08	/* revision, prog-if, subclass, class */
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10	/* BAR n at PCI_BAR0 + 4 * n */

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002

/* Base address register bits (PCI spec 3.0 §6.2.5.1). */
#define PCI_BAR_IO		0x1
#define PCI_BAR_MEM_TYPE_MASK	0x6	/* 0: 32-bit, 4: 64-bit */
#define PCI_BAR_MEM_PREFETCH	0x8
#define PCI_BAR_MEM_ADDR_MASK	0xfffffff0u

#define PCI_HEADER_MULTIFUNCTION	0x80

static inline uint32_t pci_address(unsigned int bus, unsigned int dev,
				   unsigned int fn, unsigned int reg)
{
	return PCI_CONFIG_ENABLE | bus << 16 | (dev & 31) << 11 |
	       (fn & 7) << 8 | (reg & 0xfc);
}

uint32_t pci_read32(unsigned int bus, unsigned int dev, unsigned int fn,
		    unsigned int reg);
/* Narrow reads use the byte lanes of 0xCFC-0xCFF. */
uint16_t pci_read16(unsigned int bus, unsigned int dev, unsigned int fn,
		    unsigned int reg);
uint8_t pci_read8(unsigned int bus, unsigned int dev, unsigned int fn,
		  unsigned int reg);
void pci_write32(unsigned int bus, unsigned int dev, unsigned int fn,
		 unsigned int reg, uint32_t value);
void pci_write16(unsigned int bus, unsigned int dev, unsigned int fn,
		 unsigned int reg, uint16_t value);

struct pci_location {
	unsigned int bus, dev, fn;
};

/*
 * Finds the first function with this vendor and device ID on bus 0
 * (every function of a multi-function device).  Returns false if none.
 */
bool pci_find_device(uint16_t vendor, uint16_t device,
		     struct pci_location *where);

/*
 * Sizes a 32-bit memory BAR the way §6.2.5.1 describes: memory decoding
 * off, all-ones written, the read-back mask gives the size, then the BAR
 * and the command register are restored.  Returns the size in bytes (0 if
 * the BAR is unimplemented or not a 32-bit memory BAR).
 */
uint32_t pci_bar_size32(const struct pci_location *where, unsigned int bar);

#endif
