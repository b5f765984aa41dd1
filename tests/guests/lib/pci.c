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

void pci_write32(unsigned int bus, unsigned int dev, unsigned int fn,
		 unsigned int reg, uint32_t value)
{
	outl(PCI_CONFIG_ADDRESS, pci_address(bus, dev, fn, reg));
	outl(PCI_CONFIG_DATA, value);
}

void pci_write16(unsigned int bus, unsigned int dev, unsigned int fn,
		 unsigned int reg, uint16_t value)
{
	outl(PCI_CONFIG_ADDRESS, pci_address(bus, dev, fn, reg));
	outw(PCI_CONFIG_DATA + (reg & 2), value);
}

bool pci_find_device(uint16_t vendor, uint16_t device,
		     struct pci_location *where)
{
	uint32_t want = (uint32_t)device << 16 | vendor;

	for (unsigned int dev = 0; dev < 32; dev++) {
		unsigned int functions = 1;

		for (unsigned int fn = 0; fn < functions; fn++) {
			uint32_t id = pci_read32(0, dev, fn, PCI_VENDOR_ID);

			if ((id & 0xffff) == 0xffff)
				continue;
			if (fn == 0 && (pci_read8(0, dev, 0, PCI_HEADER_TYPE) &
					PCI_HEADER_MULTIFUNCTION))
				functions = 8;
			if (id == want) {
				where->bus = 0;
				where->dev = dev;
				where->fn = fn;
				return true;
			}
		}
	}
	return false;
}

uint32_t pci_bar_size32(const struct pci_location *where, unsigned int bar)
{
	unsigned int reg = PCI_BAR0 + 4 * bar;
	uint16_t command = pci_read16(where->bus, where->dev, where->fn,
				      PCI_COMMAND);
	uint32_t saved = pci_read32(where->bus, where->dev, where->fn, reg);
	uint32_t mask;

	if (saved & PCI_BAR_IO || (saved & PCI_BAR_MEM_TYPE_MASK) != 0)
		return 0;
	/* The BAR must not decode at the all-ones address meanwhile. */
	pci_write16(where->bus, where->dev, where->fn, PCI_COMMAND,
		    command & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	pci_write32(where->bus, where->dev, where->fn, reg, 0xffffffffu);
	mask = pci_read32(where->bus, where->dev, where->fn, reg);
	pci_write32(where->bus, where->dev, where->fn, reg, saved);
	pci_write16(where->bus, where->dev, where->fn, PCI_COMMAND, command);
	mask &= PCI_BAR_MEM_ADDR_MASK;
	return mask ? ~mask + 1 : 0;
}
