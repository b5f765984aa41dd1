/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

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

#endif
