/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pci.h"

#include <string.h>

#include "error.h"
#include "layout.h"
#include "log.h"

#define CONFIG_ADDRESS_ENABLE	0x80000000u
#define RESET_CONTROL_OFFSET	1	/* port 0xCF9 */
#define RESET_CONTROL_RST_CPU	0x04

/* The host bridge identifies as Intel's 440FX, which firmware recognizes. */
#define HOST_BRIDGE_VENDOR	0x8086
#define HOST_BRIDGE_DEVICE	0x1237
#define PCI_CLASS_BRIDGE_HOST	0x060000

struct pci_bus {
	GMutex lock;
	struct bus *pio, *mmio;
	void (*request_reset)(void *opaque);
	void *reset_opaque;
	uint32_t config_address;
	uint8_t reset_control;
	struct pci_device *slots[PCI_SLOTS];
	struct pci_device host_bridge;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor_id,
		     uint16_t device_id, uint32_t class_code, uint8_t revision)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	put16(dev->config + PCI_VENDOR_ID, vendor_id);
	put16(dev->config + PCI_DEVICE_ID, device_id);
	dev->config[PCI_REVISION_ID] = revision;
	dev->config[PCI_CLASS_PROG] = (uint8_t)class_code;
	dev->config[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	dev->config[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	/* Command: I/O, memory, bus master and INTx-disable are ours to set. */
	put16(dev->wmask + PCI_COMMAND,
	      PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	/* Status: the error bits (11-15, 8) are write-one-to-clear. */
	put16(dev->w1cmask + PCI_STATUS, 0xf900);
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	dev->wmask[0x0c] = 0xff;	/* cache line size */
	dev->wmask[0x0d] = 0xff;	/* latency timer */
}

void pci_device_set_bar(struct pci_device *dev, unsigned int index, enum pci_bar_type type,
			bool prefetchable, uint64_t size, const struct bus_ops *ops, void *opaque)
{
	struct pci_bar *bar = &dev->bars[index];
	uint8_t *reg = dev->config + PCI_BAR0 + 4 * index;
	uint8_t *mask = dev->wmask + PCI_BAR0 + 4 * index;
	uint32_t flags = 0;

	g_assert(index < PCI_NUM_BARS && size && !(size & (size - 1)));
	g_assert(type != PCI_BAR_MEM64 || index + 1 < PCI_NUM_BARS);
	*bar = (struct pci_bar){ .type = type, .prefetchable = prefetchable, .size = size,
				 .ops = ops, .opaque = opaque };
	switch (type) {
	case PCI_BAR_IO:
		g_assert(size >= 4 && size <= 256);
		flags = PCI_BAR_SPACE_IO;
		put32(mask, (uint32_t)~(size - 1) & ~0x3u);
		break;
	case PCI_BAR_MEM32:
		g_assert(size >= 16 && size <= (1ULL << 31));
		flags = prefetchable ? PCI_BAR_MEM_PREFETCH : 0;
		put32(mask, (uint32_t)~(size - 1) & ~0xfu);
		break;
	case PCI_BAR_MEM64:
		g_assert(size >= 16);
		flags = PCI_BAR_MEM_TYPE_64 | (prefetchable ? PCI_BAR_MEM_PREFETCH : 0);
		put32(mask, (uint32_t)~(size - 1) & ~0xfu);
		put32(mask + 4, (uint32_t)(~(size - 1) >> 32));
		break;
	case PCI_BAR_UNUSED:
		put32(mask, 0);
		break;
	}
	put32(reg, flags);
}

/* The address a BAR is programmed with, or false if it does not decode. */
static bool bar_address(const struct pci_device *dev, unsigned int index, uint64_t *addr)
{
	const struct pci_bar *bar = &dev->bars[index];
	uint16_t command = (uint16_t)(dev->config[PCI_COMMAND] | dev->config[PCI_COMMAND + 1] << 8);
	uint32_t lo = get32(dev->config + PCI_BAR0 + 4 * index);
	uint64_t a;

	switch (bar->type) {
	case PCI_BAR_IO:
		if (!(command & PCI_COMMAND_IO))
			return false;
		a = lo & ~0x3u;
		/* An x86 I/O address has 16 bits. */
		if (a + bar->size > 0x10000)
			return false;
		break;
	case PCI_BAR_MEM32:
		if (!(command & PCI_COMMAND_MEMORY))
			return false;
		a = lo & ~0xfu;
		break;
	case PCI_BAR_MEM64:
		if (!(command & PCI_COMMAND_MEMORY))
			return false;
		a = (lo & ~0xfu) | (uint64_t)get32(dev->config + PCI_BAR0 + 4 * (index + 1)) << 32;
		break;
	default:
		return false;
	}
	/*
	 * Address 0 is "not assigned"; an all-ones pattern is a size probe in
	 * progress.  Neither decodes, or a probe would shadow other devices.
	 */
	if (a == 0 || a + (bar->size - 1) < a || ((a | (bar->size - 1)) == (bar->type == PCI_BAR_MEM64 ? ~0ULL : 0xffffffffULL)))
		return false;
	*addr = a;
	return true;
}

static void update_bar_mappings(struct pci_device *dev)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];
		struct bus *target = bar->type == PCI_BAR_IO ? dev->bus->pio : dev->bus->mmio;
		uint64_t addr = 0;
		bool decode;

		if (bar->type == PCI_BAR_UNUSED)
			continue;
		decode = bar_address(dev, i, &addr);
		if (bar->mapped && (!decode || addr != bar->mapped_addr)) {
			bus_unregister(target, bar->mapped_addr, bar->opaque);
			bar->mapped = false;
			if (dev->bar_moved)
				dev->bar_moved(dev, i, false, bar->mapped_addr);
		}
		if (decode && !bar->mapped) {
			g_autoptr(GError) error = NULL;

			if (!bus_register(target, addr, bar->size, bar->ops, bar->opaque, dev->name, &error)) {
				/* The guest placed two BARs on top of each other. */
				log_guest_once("PCI %s BAR%u not mapped: %s", dev->name, i, error->message);
				continue;
			}
			bar->mapped = true;
			bar->mapped_addr = addr;
			if (dev->bar_moved)
				dev->bar_moved(dev, i, true, addr);
		}
		if (bar->type == PCI_BAR_MEM64)
			i++;
	}
}

static uint32_t device_config_read(struct pci_device *dev, unsigned int offset, unsigned int size)
{
	uint32_t value = 0;

	for (unsigned int i = 0; i < size; i++)
		value |= (uint32_t)dev->config[offset + i] << (8 * i);
	return value;
}

static void device_config_write(struct pci_device *dev, unsigned int offset, uint32_t value,
				unsigned int size)
{
	bool touches_decoding = false;

	for (unsigned int i = 0; i < size; i++) {
		unsigned int at = offset + i;
		uint8_t byte = (uint8_t)(value >> (8 * i));
		uint8_t wmask = dev->wmask[at], w1c = dev->w1cmask[at];

		dev->config[at] = (uint8_t)((dev->config[at] & ~wmask) | (byte & wmask));
		dev->config[at] &= (uint8_t)~(byte & w1c);
		if ((at >= PCI_COMMAND && at < PCI_COMMAND + 2) ||
		    (at >= PCI_BAR0 && at < PCI_BAR0 + 4 * PCI_NUM_BARS))
			touches_decoding = true;
	}
	if (touches_decoding)
		update_bar_mappings(dev);
	if (dev->config_written)
		dev->config_written(dev, offset, size);
}

static void device_reset(struct pci_device *dev)
{
	dev->config[PCI_COMMAND] = dev->config[PCI_COMMAND + 1] = 0;
	dev->config[PCI_STATUS] = dev->config[PCI_STATUS + 1] = 0;
	dev->config[PCI_INTERRUPT_LINE] = 0;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		uint8_t *reg = dev->config + PCI_BAR0 + 4 * i;

		/* Keep the read-only type bits, clear the address bits. */
		put32(reg, get32(reg) & ~get32(dev->wmask + PCI_BAR0 + 4 * i));
	}
	update_bar_mappings(dev);
}

struct pci_bus *pci_bus_new(struct bus *pio, struct bus *mmio,
			    void (*request_reset)(void *opaque), void *reset_opaque)
{
	struct pci_bus *bus = g_new0(struct pci_bus, 1);

	g_mutex_init(&bus->lock);
	bus->pio = pio;
	bus->mmio = mmio;
	bus->request_reset = request_reset;
	bus->reset_opaque = reset_opaque;
	pci_device_init(&bus->host_bridge, "host bridge", HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
			PCI_CLASS_BRIDGE_HOST, 0x02);
	bus->host_bridge.bus = bus;
	bus->slots[0] = &bus->host_bridge;
	return bus;
}

void pci_bus_free(struct pci_bus *bus)
{
	if (!bus)
		return;
	g_mutex_clear(&bus->lock);
	g_free(bus);
}

void pci_bus_reset(struct pci_bus *bus)
{
	g_mutex_lock(&bus->lock);
	bus->config_address = 0;
	bus->reset_control = 0;
	for (unsigned int i = 0; i < PCI_SLOTS; i++)
		if (bus->slots[i])
			device_reset(bus->slots[i]);
	g_mutex_unlock(&bus->lock);
}

bool pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev, unsigned int slot,
			GError **error)
{
	bool ok = false;

	g_mutex_lock(&bus->lock);
	if (slot == 0 || slot >= PCI_SLOTS)
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "PCI slot %u for %s is out of range (1-%d)", slot, dev->name, PCI_SLOTS - 1);
	else if (bus->slots[slot])
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "PCI slot %u is taken by %s", slot, bus->slots[slot]->name);
	else
		ok = true;
	if (ok) {
		dev->bus = bus;
		dev->slot = slot;
		bus->slots[slot] = dev;
	}
	g_mutex_unlock(&bus->lock);
	return ok;
}

/*
 * What PC firmware does before it boots an OS: every BAR gets an address
 * (memory from the start of the PCI hole, largest first so each stays
 * naturally aligned without gaps; I/O from 0xc000) and decoding is enabled.
 * Guests may move them later; Linux keeps what it finds.
 */
#define FIRMWARE_IO_START 0xc000

void pci_bus_assign_resources(struct pci_bus *bus)
{
	uint64_t mem_next = LAYOUT_PCI_MMIO_START, io_next = FIRMWARE_IO_START;

	g_mutex_lock(&bus->lock);
	for (int shift = 40; shift >= 2; shift--) {
		for (unsigned int slot = 1; slot < PCI_SLOTS; slot++) {
			struct pci_device *dev = bus->slots[slot];

			for (unsigned int i = 0; dev && i < PCI_NUM_BARS; i++) {
				struct pci_bar *bar = &dev->bars[i];
				uint64_t *next = bar->type == PCI_BAR_IO ? &io_next : &mem_next;
				uint64_t addr;

				if (bar->type == PCI_BAR_UNUSED || bar->size != 1ULL << shift)
					continue;
				addr = (*next + bar->size - 1) & ~(bar->size - 1);
				if (bar->type == PCI_BAR_IO ? addr + bar->size > 0x10000 :
				    addr + bar->size - 1 > LAYOUT_PCI_MMIO_END) {
					log_warning("PCI %s BAR%u (%" G_GUINT64_FORMAT " bytes) does not fit; left unassigned",
						    dev->name, i, bar->size);
					continue;
				}
				*next = addr + bar->size;
				device_config_write(dev, PCI_BAR0 + 4 * i, (uint32_t)addr, 4);
				if (bar->type == PCI_BAR_MEM64)
					device_config_write(dev, PCI_BAR0 + 4 * (i + 1), (uint32_t)(addr >> 32), 4);
			}
		}
	}
	for (unsigned int slot = 1; slot < PCI_SLOTS; slot++) {
		struct pci_device *dev = bus->slots[slot];
		uint16_t command = 0;

		for (unsigned int i = 0; dev && i < PCI_NUM_BARS; i++)
			if (dev->bars[i].type != PCI_BAR_UNUSED)
				command |= dev->bars[i].type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
		if (command)
			device_config_write(dev, PCI_COMMAND, command, 2);
	}
	g_mutex_unlock(&bus->lock);
}

/* Access inside one device's space; offsets are 0..255 and size-aligned. */
static bool config_access_valid(unsigned int offset, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4) && offset + size <= PCI_CONFIG_SPACE_SIZE &&
	       (offset & (size - 1)) == 0;
}

uint32_t pci_bus_config_read(struct pci_bus *bus, unsigned int slot, unsigned int offset,
			     unsigned int size)
{
	uint32_t value = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (slot >= PCI_SLOTS || !config_access_valid(offset, size))
		return value;
	g_mutex_lock(&bus->lock);
	if (bus->slots[slot])
		value = device_config_read(bus->slots[slot], offset, size);
	g_mutex_unlock(&bus->lock);
	return value;
}

void pci_bus_config_write(struct pci_bus *bus, unsigned int slot, unsigned int offset,
			  uint32_t value, unsigned int size)
{
	if (slot >= PCI_SLOTS || !config_access_valid(offset, size))
		return;
	g_mutex_lock(&bus->lock);
	if (bus->slots[slot])
		device_config_write(bus->slots[slot], offset, value, size);
	g_mutex_unlock(&bus->lock);
}

/*
 * Decodes CONFIG_ADDRESS (PCI 3.0 Figure 3-2) for an access to 0xCFC + byte.
 * Only bus 0, function 0 exist; anything else reads as all ones.
 */
static bool decode_address(uint32_t address, unsigned int byte, unsigned int *slot,
			   unsigned int *offset)
{
	if (!(address & CONFIG_ADDRESS_ENABLE))
		return false;
	if ((address >> 16) & 0xff)		/* bus */
		return false;
	if ((address >> 8) & 0x7)		/* function */
		return false;
	*slot = (address >> 11) & 0x1f;
	*offset = (address & 0xfc) + byte;
	return true;
}

static uint64_t pci_config_port_read(void *opaque, uint64_t port_offset, unsigned int size)
{
	struct pci_bus *bus = opaque;
	unsigned int slot, offset;
	uint32_t address;

	g_mutex_lock(&bus->lock);
	address = bus->config_address;
	g_mutex_unlock(&bus->lock);
	if (port_offset == 0 && size == 4)
		return address;
	if (port_offset == RESET_CONTROL_OFFSET && size == 1)
		return bus->reset_control;
	if (port_offset < 4 || !decode_address(address, (unsigned int)port_offset - 4, &slot, &offset))
		return ~0ULL;
	return pci_bus_config_read(bus, slot, offset, size);
}

static void pci_config_port_write(void *opaque, uint64_t port_offset, uint64_t value, unsigned int size)
{
	struct pci_bus *bus = opaque;
	unsigned int slot, offset;
	uint32_t address;

	if (port_offset == 0 && size == 4) {
		g_mutex_lock(&bus->lock);
		bus->config_address = (uint32_t)value & 0x80fffffcu;
		g_mutex_unlock(&bus->lock);
		return;
	}
	if (port_offset == RESET_CONTROL_OFFSET && size == 1) {
		/* Reset Control Register (Intel PIIX/ICH): RST_CPU starts a reset. */
		bool reset = (value & RESET_CONTROL_RST_CPU) && !(bus->reset_control & RESET_CONTROL_RST_CPU);

		bus->reset_control = (uint8_t)(value & ~RESET_CONTROL_RST_CPU);
		if (reset && bus->request_reset)
			bus->request_reset(bus->reset_opaque);
		return;
	}
	g_mutex_lock(&bus->lock);
	address = bus->config_address;
	g_mutex_unlock(&bus->lock);
	if (port_offset < 4 || !decode_address(address, (unsigned int)port_offset - 4, &slot, &offset))
		return;
	pci_bus_config_write(bus, slot, offset, (uint32_t)value, size);
}

const struct bus_ops pci_config_ops = {
	.read = pci_config_port_read,
	.write = pci_config_port_write,
};
