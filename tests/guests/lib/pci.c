/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pci.h"
#include "io.h"

uint32_t pci_read32(unsigned int bus, unsigned int dev, unsigned int fn,
		    unsigned int reg)
{
	outl(PCI_CONFIG_ADDRESS, pci_address(bus, dev, fn, reg));
	return inl(PCI_CONFIG_DATA);
}

uint16_t pci_read16(unsigned int bus, unsigned int dev, unsigned int fn,
		    unsigned int reg)
{
	outl(PCI_CONFIG_ADDRESS, pci_address(bus, dev, fn, reg));
	return inw(PCI_CONFIG_DATA + (reg & 2));
}

uint8_t pci_read8(unsigned int bus, unsigned int dev, unsigned int fn,
		  unsigned int reg)
{
	outl(PCI_CONFIG_ADDRESS, pci_address(bus, dev, fn, reg));
	return inb(PCI_CONFIG_DATA + (reg & 3));
}
