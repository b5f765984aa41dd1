/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_PCI_H
#define VESSEL_VMM_PCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

/*
 * PCI bus 0 behind a host bridge reached through configuration mechanism #1
 * (PCI Local Bus Specification 3.0 §3.2.2.3.2): ports 0xCF8 (address) and
 * 0xCFC-0xCFF (data).  Devices own a 256-byte configuration space with
 * write masks; BARs are sized by the usual all-ones probe and mapped on the
 * I/O or MMIO bus wherever the guest (or firmware) places them, whenever
 * the command register enables decoding.
 */
#define PCI_CONFIG_PORT		0xcf8
#define PCI_CONFIG_PORT_COUNT	8
#define PCI_CONFIG_SPACE_SIZE	256
#define PCI_SLOTS		32
#define PCI_NUM_BARS		6

/* Configuration header offsets (type 0, PCI 3.0 §6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_BAR_SPACE_IO	0x1
#define PCI_BAR_MEM_TYPE_64	0x4
#define PCI_BAR_MEM_PREFETCH	0x8

enum pci_bar_type {
	PCI_BAR_UNUSED,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,	/* takes this BAR and the next */
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetchable;
	uint64_t size;			/* power of two */
	const struct bus_ops *ops;
	void *opaque;
	bool mapped;
	uint64_t mapped_addr;
};

struct pci_device {
	const char *name;
	uint8_t config[PCI_CONFIG_SPACE_SIZE];
	uint8_t wmask[PCI_CONFIG_SPACE_SIZE];	/* bits the guest may change */
	uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE];	/* bits a written 1 clears */
	struct pci_bar bars[PCI_NUM_BARS];
	struct pci_bus *bus;
	unsigned int slot;
	/* Optional: device-specific registers beyond the standard header. */
	void (*config_written)(struct pci_device *dev, unsigned int offset, unsigned int size);
	/* Optional: a BAR was mapped (mapped = true at addr) or unmapped. */
	void (*bar_moved)(struct pci_device *dev, unsigned int bar, bool mapped, uint64_t addr);
};

/* class_code is the 24-bit class / subclass / programming interface. */
void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor_id,
		     uint16_t device_id, uint32_t class_code, uint8_t revision);
void pci_device_set_bar(struct pci_device *dev, unsigned int index, enum pci_bar_type type,
			bool prefetchable, uint64_t size, const struct bus_ops *ops, void *opaque);

struct pci_bus;

/*
 * Creates bus 0 with its host bridge at 00:00.0.  BARs are mapped on pio and
 * mmio.  request_reset is called when the guest writes the reset bit of the
 * Reset Control register at 0xCF9.
 */
struct pci_bus *pci_bus_new(struct bus *pio, struct bus *mmio,
			    void (*request_reset)(void *opaque), void *reset_opaque);
void pci_bus_free(struct pci_bus *bus);
/* Every device back to power-on: command 0, BARs 0 and unmapped. */
void pci_bus_reset(struct pci_bus *bus);
/* Firmware's job: addresses for every BAR, decoding on (see pci.c). */
void pci_bus_assign_resources(struct pci_bus *bus);
/* Puts dev in `slot` (1..31; 0 is the host bridge). */
bool pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev, unsigned int slot,
			GError **error);

/* Configuration space access as the guest does it (for tests and firmware). */
uint32_t pci_bus_config_read(struct pci_bus *bus, unsigned int slot, unsigned int offset,
			     unsigned int size);
void pci_bus_config_write(struct pci_bus *bus, unsigned int slot, unsigned int offset,
			  uint32_t value, unsigned int size);

extern const struct bus_ops pci_config_ops;	/* register at PCI_CONFIG_PORT */

#endif
