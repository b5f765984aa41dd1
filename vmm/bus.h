/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_BUS_H
#define VESSEL_VMM_BUS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * A guest address space that is not RAM: the port-I/O bus (16-bit port
 * numbers) or the MMIO bus (guest-physical addresses).  Devices claim ranges;
 * accesses arrive as (offset within the range, size in bytes: 1, 2, 4 or 8),
 * values little-endian in a uint64_t.
 *
 * Ranges may be added and removed while vCPUs run (PCI BARs move when the
 * guest programs them, possibly from inside another device's handler), so
 * dispatch looks the range up under a lock and calls the handler without it.
 * Devices live as long as the machine; only their mapping changes.
 */
struct bus_ops {
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned int size);
};

struct bus_range {
	uint64_t base;
	uint64_t size;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;		/* "I/O port" or "MMIO", for messages */
	GMutex lock;
	GArray *ranges;			/* struct bus_range, sorted by base */
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* Fails (with the owner's name in the message) when the range overlaps one. */
bool bus_register(struct bus *bus, uint64_t base, uint64_t size, const struct bus_ops *ops,
		  void *opaque, const char *name, GError **error);
/* Removes the range starting at base owned by opaque; false if none. */
bool bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/*
 * Dispatch.  An access no device claims entirely reads as all ones and
 * writes are dropped, as on a PC; the return value says whether a device
 * took it.
 */
bool bus_read(struct bus *bus, uint64_t addr, unsigned int size, uint64_t *value);
bool bus_write(struct bus *bus, uint64_t addr, unsigned int size, uint64_t value);

/* Little-endian byte buffer <-> value, for accelerators that exit with bytes. */
uint64_t bus_value_from_bytes(const uint8_t *bytes, unsigned int size);
void bus_value_to_bytes(uint64_t value, uint8_t *bytes, unsigned int size);

#endif
