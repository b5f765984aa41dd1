/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pci: configuration mechanism #1 (PCI Local Bus spec 3.0 §3.2.2.3.2).
 *
 * Asserts: CONFIG_ADDRESS reads back what was written; 00:00.0 is the
 * i440FX host bridge 8086:1237, class 06/00 (bridge, host), header type 0;
 * 16-bit and 8-bit reads through the byte lanes of 0xCFC-0xCFF agree with
 * the 32-bit read; an empty slot (00:1f.0) and an absent bus (bus 0xfe)
 * return all-ones vendor IDs, as a master abort does (§6.1).  Prints the
 * devices it finds on bus 0.
 */
#include "lib/io.h"
#include "lib/pci.h"
#include "lib/printf.h"
#include "lib/test.h"

const char guest_name[] = "pci";

#define HOST_BRIDGE_ID		0x12378086	/* device << 16 | vendor */
#define CLASS_BRIDGE_HOST	0x0600
#define EMPTY_SLOT		31

int main(void)
{
	uint32_t id, class_rev, addr, readback;
	uint16_t vendor, device;
	uint8_t header_type, class_byte;

	/* §3.2.2.3.2: CONFIG_ADDRESS is a read/write register. */
	addr = pci_address(0, 3, 0, 0x10);
	outl(PCI_CONFIG_ADDRESS, addr);
	readback = inl(PCI_CONFIG_ADDRESS);
	printf("pci: CONFIG_ADDRESS wrote %#x read %#x\n", addr, readback);
	test_assert(readback == addr, "CONFIG_ADDRESS read back %#x, wrote %#x",
		    readback, addr);

	for (unsigned int dev = 0; dev < 32; dev++) {
		uint32_t v = pci_read32(0, dev, 0, PCI_VENDOR_ID);

		if ((v & 0xffff) == 0xffff)
			continue;
		printf("pci: 00:%02x.0 %04x:%04x class %06x\n", dev,
		       v & 0xffff, v >> 16,
		       pci_read32(0, dev, 0, PCI_REVISION_CLASS) >> 8);
	}

	id = pci_read32(0, 0, 0, PCI_VENDOR_ID);
	class_rev = pci_read32(0, 0, 0, PCI_REVISION_CLASS);
	header_type = pci_read8(0, 0, 0, PCI_HEADER_TYPE);
	test_assert(id == HOST_BRIDGE_ID, "00:00.0 is %04x:%04x, want 8086:1237",
		    id & 0xffff, id >> 16);
	test_assert(class_rev >> 16 == CLASS_BRIDGE_HOST,
		    "00:00.0 class %04x, want 0600", class_rev >> 16);
	test_assert((header_type & 0x7f) == 0,
		    "00:00.0 header type %#x, want 0", header_type);

	vendor = pci_read16(0, 0, 0, PCI_VENDOR_ID);
	device = pci_read16(0, 0, 0, PCI_DEVICE_ID);
	class_byte = pci_read8(0, 0, 0, PCI_REVISION_CLASS + 3);
	printf("pci: narrow reads: vendor %04x device %04x class %02x\n",
	       vendor, device, class_byte);
	test_assert(vendor == (id & 0xffff) && device == id >> 16,
		    "16-bit reads give %04x:%04x, 32-bit %04x:%04x", vendor,
		    device, id & 0xffff, id >> 16);
	test_assert(class_byte == CLASS_BRIDGE_HOST >> 8,
		    "8-bit read of the class byte gives %#x", class_byte);

	vendor = pci_read16(0, EMPTY_SLOT, 0, PCI_VENDOR_ID);
	printf("pci: 00:%02x.0 vendor %04x\n", EMPTY_SLOT, vendor);
	test_assert(vendor == 0xffff, "empty slot 00:%02x.0 has vendor %04x",
		    EMPTY_SLOT, vendor);
	id = pci_read32(0xfe, 0, 0, PCI_VENDOR_ID);
	printf("pci: fe:00.0 reads %08x\n", id);
	test_assert(id == 0xffffffff, "absent bus 0xfe reads %#x", id);
	return 0;
}
