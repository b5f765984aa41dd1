/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bus.h"

#include "error.h"

void bus_init(struct bus *bus, const char *name)
{
	bus->name = name;
	g_mutex_init(&bus->lock);
	bus->ranges = g_array_new(FALSE, FALSE, sizeof(struct bus_range));
}

void bus_destroy(struct bus *bus)
{
	if (bus->ranges)
		g_array_free(bus->ranges, TRUE);
	bus->ranges = NULL;
	g_mutex_clear(&bus->lock);
}

/* Index of the first range whose end is above addr (binary search). */
static unsigned int bus_lower_bound(struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->ranges->len;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &g_array_index(bus->ranges, struct bus_range, mid);

		if (r->base + (r->size - 1) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool bus_register(struct bus *bus, uint64_t base, uint64_t size, const struct bus_ops *ops,
		  void *opaque, const char *name, GError **error)
{
	struct bus_range range = { base, size, ops, opaque, name };
	unsigned int i;

	if (size == 0 || base + (size - 1) < base) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "%s: invalid %s range 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x",
			    name, bus->name, base, size);
		return false;
	}
	g_mutex_lock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->ranges->len) {
		const struct bus_range *next = &g_array_index(bus->ranges, struct bus_range, i);

		if (next->base <= base + (size - 1)) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "%s at %s 0x%" G_GINT64_MODIFIER "x overlaps %s at 0x%" G_GINT64_MODIFIER "x",
				    name, bus->name, base, next->name, next->base);
			g_mutex_unlock(&bus->lock);
			return false;
		}
	}
	g_array_insert_val(bus->ranges, i, range);
	g_mutex_unlock(&bus->lock);
	return true;
}

bool bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	bool found = false;

	g_mutex_lock(&bus->lock);
	for (unsigned int i = 0; i < bus->ranges->len; i++) {
		const struct bus_range *r = &g_array_index(bus->ranges, struct bus_range, i);

		if (r->base == base && r->opaque == opaque) {
			g_array_remove_index(bus->ranges, i);
			found = true;
			break;
		}
	}
	g_mutex_unlock(&bus->lock);
	return found;
}

static bool bus_find(struct bus *bus, uint64_t addr, unsigned int size, struct bus_range *out,
		     uint64_t *offset_out)
{
	bool found = false;
	unsigned int i;

	g_mutex_lock(&bus->lock);
	i = bus_lower_bound(bus, addr);
	if (i < bus->ranges->len) {
		const struct bus_range *r = &g_array_index(bus->ranges, struct bus_range, i);
		uint64_t offset = addr - r->base;

		/* The whole access must fall inside the range. */
		if (addr >= r->base && offset < r->size && size <= r->size - offset) {
			*out = *r;
			*offset_out = offset;
			found = true;
		}
	}
	g_mutex_unlock(&bus->lock);
	return found;
}

bool bus_read(struct bus *bus, uint64_t addr, unsigned int size, uint64_t *value)
{
	struct bus_range r;
	uint64_t offset;

	if (!bus_find(bus, addr, size, &r, &offset) || !r.ops->read) {
		*value = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
		return false;
	}
	*value = r.ops->read(r.opaque, offset, size);
	if (size < 8)
		*value &= (1ULL << (size * 8)) - 1;
	return true;
}

bool bus_write(struct bus *bus, uint64_t addr, unsigned int size, uint64_t value)
{
	struct bus_range r;
	uint64_t offset;

	if (!bus_find(bus, addr, size, &r, &offset))
		return false;
	if (r.ops->write)
		r.ops->write(r.opaque, offset, value, size);
	return true;
}

uint64_t bus_value_from_bytes(const uint8_t *bytes, unsigned int size)
{
	uint64_t value = 0;

	for (unsigned int i = 0; i < size && i < 8; i++)
		value |= (uint64_t)bytes[i] << (8 * i);
	return value;
}

void bus_value_to_bytes(uint64_t value, uint8_t *bytes, unsigned int size)
{
	for (unsigned int i = 0; i < size && i < 8; i++)
		bytes[i] = (uint8_t)(value >> (8 * i));
}
