/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fw_cfg.h"

#include <string.h>

#include "error.h"
#include "log.h"

/* FWCfgDmaAccess.control bits (fw_cfg.rst, "Guest-side DMA Interface"). */
#define DMA_CTL_ERROR	0x01
#define DMA_CTL_READ	0x02
#define DMA_CTL_SKIP	0x04
#define DMA_CTL_SELECT	0x08
#define DMA_CTL_WRITE	0x10

#define DMA_SIGNATURE	0x51454d5520434647ULL	/* "QEMU CFG", big-endian */
#define FW_CFG_ENTRY_MASK 0x3fff		/* bits 14-15 are flags */
#define FW_CFG_ARCH_FLAG  0x8000

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg_file {
	char name[FW_CFG_MAX_FILE_NAME];
	uint16_t key;
};

struct fw_cfg {
	GMutex lock;
	const struct guest_memory *mem;
	GHashTable *items;		/* key (uint) -> struct fw_cfg_item */
	struct fw_cfg_file files[FW_CFG_MAX_FILES];
	unsigned int nr_files;
	uint16_t selector;
	uint32_t offset;
	uint32_t dma_high;		/* high half of the DMA address, written first */
};

static void item_free(gpointer p)
{
	struct fw_cfg_item *item = p;

	g_free(item->data);
	g_free(item);
}

struct fw_cfg *fw_cfg_new(const struct guest_memory *mem)
{
	struct fw_cfg *f = g_new0(struct fw_cfg, 1);

	g_mutex_init(&f->lock);
	f->mem = mem;
	f->items = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, item_free);
	fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
	/* Bit 0: traditional interface, bit 1: DMA. */
	fw_cfg_add_u32(f, FW_CFG_ID, 0x3);
	fw_cfg_add_bytes(f, FW_CFG_FILE_DIR, "\0\0\0\0", 4);
	return f;
}

void fw_cfg_free(struct fw_cfg *f)
{
	if (!f)
		return;
	g_hash_table_destroy(f->items);
	g_mutex_clear(&f->lock);
	g_free(f);
}

void fw_cfg_reset(struct fw_cfg *f)
{
	g_mutex_lock(&f->lock);
	f->selector = 0;
	f->offset = 0;
	f->dma_high = 0;
	g_mutex_unlock(&f->lock);
}

static void add_item_locked(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
	struct fw_cfg_item *item = g_new0(struct fw_cfg_item, 1);

	item->data = g_memdup2(data, len);
	item->len = (uint32_t)len;
	g_hash_table_replace(f->items, GUINT_TO_POINTER(key), item);
}

void fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
	g_mutex_lock(&f->lock);
	add_item_locked(f, key, data, len);
	g_mutex_unlock(&f->lock);
}

void fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t value)
{
	uint16_t le = GUINT16_TO_LE(value);

	fw_cfg_add_bytes(f, key, &le, sizeof(le));
}

void fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t value)
{
	uint32_t le = GUINT32_TO_LE(value);

	fw_cfg_add_bytes(f, key, &le, sizeof(le));
}

void fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t value)
{
	uint64_t le = GUINT64_TO_LE(value);

	fw_cfg_add_bytes(f, key, &le, sizeof(le));
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct fw_cfg_file *)a)->name, ((const struct fw_cfg_file *)b)->name);
}

/* Rebuilds FW_CFG_FILE_DIR: big-endian count, then 64-byte entries sorted by name. */
static void rebuild_directory_locked(struct fw_cfg *f)
{
	struct fw_cfg_file sorted[FW_CFG_MAX_FILES];
	size_t len = 4 + 64 * (size_t)f->nr_files;
	g_autofree uint8_t *dir = g_malloc0(len);
	uint32_t count_be = GUINT32_TO_BE(f->nr_files);

	memcpy(sorted, f->files, sizeof(sorted[0]) * f->nr_files);
	qsort(sorted, f->nr_files, sizeof(sorted[0]), compare_files);
	memcpy(dir, &count_be, 4);
	for (unsigned int i = 0; i < f->nr_files; i++) {
		uint8_t *entry = dir + 4 + 64 * i;
		struct fw_cfg_item *item = g_hash_table_lookup(f->items, GUINT_TO_POINTER(sorted[i].key));
		uint32_t size_be = GUINT32_TO_BE(item ? item->len : 0);
		uint16_t select_be = GUINT16_TO_BE(sorted[i].key);

		memcpy(entry, &size_be, 4);
		memcpy(entry + 4, &select_be, 2);
		memcpy(entry + 8, sorted[i].name, FW_CFG_MAX_FILE_NAME);
	}
	add_item_locked(f, FW_CFG_FILE_DIR, dir, len);
}

bool fw_cfg_add_file(struct fw_cfg *f, const char *name, GBytes *data, GError **error)
{
	size_t len;
	const void *bytes = g_bytes_get_data(data, &len);

	if (!*name || strlen(name) >= FW_CFG_MAX_FILE_NAME) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "fw_cfg file name '%s' must be 1 to %d characters long",
			    name, FW_CFG_MAX_FILE_NAME - 1);
		return false;
	}
	if (len > UINT32_MAX) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "fw_cfg file '%s' is larger than 4 GiB", name);
		return false;
	}
	g_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < f->nr_files; i++) {
		if (!strcmp(f->files[i].name, name)) {
			g_mutex_unlock(&f->lock);
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
				    "fw_cfg file '%s' is given twice", name);
			return false;
		}
	}
	if (f->nr_files == FW_CFG_MAX_FILES) {
		g_mutex_unlock(&f->lock);
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "too many fw_cfg files (at most %d)", FW_CFG_MAX_FILES);
		return false;
	}
	f->files[f->nr_files].key = (uint16_t)(FW_CFG_FILE_FIRST + f->nr_files);
	g_strlcpy(f->files[f->nr_files].name, name, FW_CFG_MAX_FILE_NAME);
	add_item_locked(f, f->files[f->nr_files].key, bytes, len);
	f->nr_files++;
	rebuild_directory_locked(f);
	g_mutex_unlock(&f->lock);
	return true;
}

static const struct fw_cfg_item *selected_item(struct fw_cfg *f)
{
	uint16_t key = f->selector & (FW_CFG_ARCH_FLAG | FW_CFG_ENTRY_MASK);

	return g_hash_table_lookup(f->items, GUINT_TO_POINTER(key));
}

static void select_item(struct fw_cfg *f, uint16_t selector)
{
	f->selector = selector;
	f->offset = 0;
}

static uint8_t read_data_byte(struct fw_cfg *f)
{
	const struct fw_cfg_item *item = selected_item(f);
	uint8_t value = 0;

	/* Past the end reads give 0x00 and the offset stays put. */
	if (item && f->offset < item->len)
		value = item->data[f->offset++];
	return value;
}

/* Runs one FWCfgDmaAccess at guest_phys_addr; every field is guest-controlled. */
static void run_dma(struct fw_cfg *f, uint64_t access_addr)
{
	uint8_t access[16];
	uint32_t control, length;
	uint64_t address;
	uint32_t status = 0;

	if (!guest_memory_read(f->mem, access_addr, access, sizeof(access))) {
		log_guest_once("fw_cfg: DMA descriptor at 0x%" G_GINT64_MODIFIER "x is not in RAM",
			       access_addr);
		return;
	}
	memcpy(&control, access, 4);
	memcpy(&length, access + 4, 4);
	memcpy(&address, access + 8, 8);
	control = GUINT32_FROM_BE(control);
	length = GUINT32_FROM_BE(length);
	address = GUINT64_FROM_BE(address);

	if (control & DMA_CTL_SELECT)
		select_item(f, (uint16_t)(control >> 16));

	if (control & DMA_CTL_READ) {
		const struct fw_cfg_item *item = selected_item(f);
		uint32_t avail = item && f->offset < item->len ? item->len - f->offset : 0;
		uint32_t n = MIN(avail, length);
		uint8_t *dst = guest_memory_ptr(f->mem, address, length);

		/* The whole destination must be RAM; otherwise nothing is written. */
		if (!dst) {
			status = DMA_CTL_ERROR;
		} else {
			if (n)
				memcpy(dst, item->data + f->offset, n);
			memset(dst + n, 0, length - n);	/* reads past the end give zeroes */
			f->offset += n;
		}
	} else if (control & DMA_CTL_WRITE) {
		status = DMA_CTL_ERROR;	/* every item is read-only */
	} else if (control & DMA_CTL_SKIP) {
		const struct fw_cfg_item *item = selected_item(f);
		uint32_t len = item ? item->len : 0;

		f->offset = length > len - MIN(f->offset, len) ? len : f->offset + length;
	}

	status = GUINT32_TO_BE(status);
	if (!guest_memory_write(f->mem, access_addr, &status, sizeof(status)))
		log_guest_once("fw_cfg: cannot write DMA status");
}

static uint64_t fw_cfg_bus_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct fw_cfg *f = opaque;
	uint64_t value = 0;

	g_mutex_lock(&f->lock);
	if (offset == FW_CFG_PORT_DATA - FW_CFG_PORT_SELECTOR) {
		/* An N-byte read returns the next N bytes in address order. */
		for (unsigned int i = 0; i < size; i++)
			value |= (uint64_t)read_data_byte(f) << (8 * i);
	} else if (offset >= FW_CFG_PORT_DMA - FW_CFG_PORT_SELECTOR) {
		/* The DMA register reads as "QEMU CFG"; bytes in big-endian order. */
		unsigned int first = (unsigned int)(offset - (FW_CFG_PORT_DMA - FW_CFG_PORT_SELECTOR));

		for (unsigned int i = 0; i < size && first + i < 8; i++)
			value |= ((DMA_SIGNATURE >> (8 * (7 - (first + i)))) & 0xff) << (8 * i);
	}
	g_mutex_unlock(&f->lock);
	return value;
}

static void fw_cfg_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct fw_cfg *f = opaque;

	g_mutex_lock(&f->lock);
	switch (offset) {
	case 0:
		if (size == 2)
			select_item(f, (uint16_t)value);
		break;
	case FW_CFG_PORT_DMA - FW_CFG_PORT_SELECTOR:
		if (size == 4)
			f->dma_high = GUINT32_FROM_BE((uint32_t)value);
		break;
	case FW_CFG_PORT_DMA + 4 - FW_CFG_PORT_SELECTOR:
		/* Writing the low half starts the transfer (fw_cfg.rst). */
		if (size == 4) {
			uint64_t addr = ((uint64_t)f->dma_high << 32) | GUINT32_FROM_BE((uint32_t)value);

			f->dma_high = 0;
			run_dma(f, addr);
		}
		break;
	default:
		break;	/* data port writes are ignored since QEMU 2.4; so here */
	}
	g_mutex_unlock(&f->lock);
}

const struct bus_ops fw_cfg_bus_ops = {
	.read = fw_cfg_bus_read,
	.write = fw_cfg_bus_write,
};
