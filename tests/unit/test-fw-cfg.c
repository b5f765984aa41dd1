/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fw_cfg device as firmware and test kernels use it (QEMU
 * docs/specs/fw_cfg.rst): the selector and data ports on a real I/O bus,
 * and DMA with FWCfgDmaAccess descriptors in real guest memory.
 */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "error.h"
#include "fw_cfg.h"

#define DMA_ERROR	0x01
#define DMA_READ	0x02
#define DMA_SKIP	0x04
#define DMA_SELECT	0x08
#define DMA_WRITE	0x10

#define GUEST_RAM	(16ULL << 20)
#define DESC_ADDR	0x1000
#define BUF_ADDR	0x2000

struct fixture {
	struct guest_memory mem;
	struct bus pio;
	struct fw_cfg *fw;
};

static void setup_with_memory(struct fixture *f)
{
	g_autoptr(GError) error = NULL;

	bus_init(&f->pio, "I/O port");
	f->fw = fw_cfg_new(&f->mem);
	g_assert_true(bus_register(&f->pio, FW_CFG_PORT_SELECTOR, FW_CFG_PORT_COUNT, &fw_cfg_bus_ops,
				   f->fw, "fw_cfg", &error));
	g_assert_no_error(error);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	memset(f, 0, sizeof(*f));
	g_assert_true(guest_memory_init(&f->mem, GUEST_RAM, &error));
	g_assert_no_error(error);
	setup_with_memory(f);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	fw_cfg_free(f->fw);
	bus_destroy(&f->pio);
	guest_memory_destroy(&f->mem);
}

static void select_key(struct fixture *f, uint16_t key)
{
	g_assert_true(bus_write(&f->pio, FW_CFG_PORT_SELECTOR, 2, key));
}

static uint8_t data_byte(struct fixture *f)
{
	uint64_t value;

	g_assert_true(bus_read(&f->pio, FW_CFG_PORT_DATA, 1, &value));
	return (uint8_t)value;
}

static void read_item(struct fixture *f, uint16_t key, void *buf, size_t len)
{
	select_key(f, key);
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = data_byte(f);
}

static void add_file(struct fixture *f, const char *name, const char *content)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = g_bytes_new(content, strlen(content));

	g_assert_true(fw_cfg_add_file(f->fw, name, bytes, &error));
	g_assert_no_error(error);
}

/* Writes a FWCfgDmaAccess (all fields big-endian) into guest memory. */
static void put_descriptor(struct fixture *f, uint64_t at, uint32_t control, uint32_t length, uint64_t address)
{
	uint32_t c = GUINT32_TO_BE(control), l = GUINT32_TO_BE(length);
	uint64_t a = GUINT64_TO_BE(address);
	uint8_t desc[16];

	memcpy(desc, &c, 4);
	memcpy(desc + 4, &l, 4);
	memcpy(desc + 8, &a, 8);
	g_assert_true(guest_memory_write(&f->mem, at, desc, sizeof(desc)));
}

static uint32_t descriptor_control(struct fixture *f, uint64_t at)
{
	uint32_t c;

	g_assert_true(guest_memory_read(&f->mem, at, &c, 4));
	return GUINT32_FROM_BE(c);
}

/* The guest's outl(cpu_to_be32(half), port): the high half first, the low half starts it. */
static void start_dma(struct fixture *f, uint64_t desc_addr)
{
	bus_write(&f->pio, FW_CFG_PORT_DMA, 4, GUINT32_TO_BE((uint32_t)(desc_addr >> 32)));
	bus_write(&f->pio, FW_CFG_PORT_DMA + 4, 4, GUINT32_TO_BE((uint32_t)desc_addr));
}

/* Runs one DMA operation and returns the control word the device left. */
static uint32_t dma(struct fixture *f, uint32_t control, uint32_t length, uint64_t address)
{
	put_descriptor(f, DESC_ADDR, control, length, address);
	start_dma(f, DESC_ADDR);
	return descriptor_control(f, DESC_ADDR);
}

static void fill_guest(struct fixture *f, uint64_t at, uint8_t byte, size_t len)
{
	g_autofree uint8_t *buf = g_malloc(len);

	memset(buf, byte, len);
	g_assert_true(guest_memory_write(&f->mem, at, buf, len));
}

static void assert_guest(struct fixture *f, uint64_t at, const void *expected, size_t len)
{
	g_autofree uint8_t *buf = g_malloc(len);

	g_assert_true(guest_memory_read(&f->mem, at, buf, len));
	g_assert_cmpmem(buf, len, expected, len);
}

static void test_signature(struct fixture *f, gconstpointer data)
{
	char sig[5] = { 0 };
	uint8_t id[4];

	read_item(f, FW_CFG_SIGNATURE, sig, 4);
	g_assert_cmpstr(sig, ==, "QEMU");
	/* Past the end: zeroes, however often. */
	g_assert_cmphex(data_byte(f), ==, 0);
	g_assert_cmphex(data_byte(f), ==, 0);

	/* Feature bitmap: traditional interface and DMA, little-endian. */
	read_item(f, FW_CFG_ID, id, 4);
	g_assert_cmphex(id[0], ==, 0x03);
	g_assert_cmphex(id[1] | id[2] | id[3], ==, 0);

	/* Selecting again starts from the beginning. */
	read_item(f, FW_CFG_SIGNATURE, sig, 2);
	read_item(f, FW_CFG_SIGNATURE, sig, 4);
	g_assert_cmpstr(sig, ==, "QEMU");
}

static void test_items(struct fixture *f, gconstpointer data)
{
	uint8_t buf[8];

	fw_cfg_add_u16(f->fw, FW_CFG_NB_CPUS, 0x0102);
	fw_cfg_add_u32(f->fw, FW_CFG_MAX_CPUS, 0x01020304);
	fw_cfg_add_u64(f->fw, FW_CFG_RAM_SIZE, 0x0102030405060708ULL);

	read_item(f, FW_CFG_NB_CPUS, buf, 3);
	g_assert_cmpmem(buf, 3, "\x02\x01\x00", 3);
	read_item(f, FW_CFG_MAX_CPUS, buf, 4);
	g_assert_cmpmem(buf, 4, "\x04\x03\x02\x01", 4);
	read_item(f, FW_CFG_RAM_SIZE, buf, 8);
	g_assert_cmpmem(buf, 8, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);

	/* Replacing an item replaces its content and length. */
	fw_cfg_add_bytes(f->fw, FW_CFG_NB_CPUS, "\x07", 1);
	read_item(f, FW_CFG_NB_CPUS, buf, 2);
	g_assert_cmpmem(buf, 2, "\x07\x00", 2);

	/* A key with no item reads as zeroes. */
	read_item(f, 0x1234, buf, 4);
	g_assert_cmpmem(buf, 4, "\0\0\0\0", 4);
	/* Bit 14 (write channel) of the selector does not change the item. */
	read_item(f, 0x4000 | FW_CFG_SIGNATURE, buf, 4);
	g_assert_cmpmem(buf, 4, "QEMU", 4);
	/* Data port writes are ignored. */
	select_key(f, FW_CFG_SIGNATURE);
	bus_write(&f->pio, FW_CFG_PORT_DATA, 1, 'X');
	read_item(f, FW_CFG_SIGNATURE, buf, 4);
	g_assert_cmpmem(buf, 4, "QEMU", 4);
	/* Only 16-bit selector writes select. */
	select_key(f, FW_CFG_SIGNATURE);
	bus_write(&f->pio, FW_CFG_PORT_SELECTOR, 1, FW_CFG_ID);
	g_assert_cmphex(data_byte(f), ==, 'Q');
}

static void test_wide_data_reads(struct fixture *f, gconstpointer data)
{
	uint64_t value;

	add_file(f, "opt/vessel/wide", "ABCDEFG");
	select_key(f, FW_CFG_FILE_FIRST);
	/* An N-byte read returns the next N bytes in address order. */
	g_assert_true(bus_read(&f->pio, FW_CFG_PORT_DATA, 2, &value));
	g_assert_cmphex(value, ==, 0x4241);
	g_assert_true(bus_read(&f->pio, FW_CFG_PORT_DATA, 4, &value));
	g_assert_cmphex(value, ==, 0x46454443);
	/* Crossing the end: the missing bytes read as zero. */
	g_assert_true(bus_read(&f->pio, FW_CFG_PORT_DATA, 4, &value));
	g_assert_cmphex(value, ==, 0x00000047);
}

static void test_directory(struct fixture *f, gconstpointer data)
{
	static const struct { const char *name, *content; uint16_t key; } files[] = {
		{ "opt/vessel/zebra", "zz", FW_CFG_FILE_FIRST + 0 },
		{ "etc/boot-order", "/pci@i0cf8/\n", FW_CFG_FILE_FIRST + 1 },
		{ "opt/vessel/alpha", "first file\n", FW_CFG_FILE_FIRST + 2 },
	};
	static const unsigned int sorted[] = { 1, 2, 0 };
	uint8_t dir[4 + 3 * 64];
	uint8_t tail;

	/* An empty directory: a zero count. */
	read_item(f, FW_CFG_FILE_DIR, dir, 4);
	g_assert_cmpmem(dir, 4, "\0\0\0\0", 4);

	for (unsigned int i = 0; i < G_N_ELEMENTS(files); i++)
		add_file(f, files[i].name, files[i].content);

	read_item(f, FW_CFG_FILE_DIR, dir, sizeof(dir));
	tail = data_byte(f);
	g_assert_cmphex(tail, ==, 0);	/* exactly count * 64 + 4 bytes */
	g_assert_cmpuint(dir[0] << 24 | dir[1] << 16 | dir[2] << 8 | dir[3], ==, 3);
	for (unsigned int i = 0; i < 3; i++) {
		const uint8_t *e = dir + 4 + 64 * i;
		unsigned int want = sorted[i];
		uint32_t size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
		uint16_t select = (uint16_t)(e[4] << 8 | e[5]);
		char name[57] = { 0 };
		g_autofree char *content = g_malloc0(size + 1);

		/* Sorted by name, sizes and keys big-endian, reserved zero. */
		memcpy(name, e + 8, 56);
		g_assert_cmpstr(name, ==, files[want].name);
		g_assert_cmpuint(size, ==, strlen(files[want].content));
		g_assert_cmphex(select, ==, files[want].key);
		g_assert_cmphex(e[6] | e[7], ==, 0);
		/* The name is NUL-padded to 56 bytes. */
		for (size_t j = strlen(files[want].name); j < 56; j++)
			g_assert_cmphex(e[8 + j], ==, 0);
		/* And the key reads the file's content. */
		read_item(f, select, content, size);
		g_assert_cmpstr(content, ==, files[want].content);
	}
}

static void test_file_names(struct fixture *f, gconstpointer data)
{
	g_autoptr(GBytes) bytes = g_bytes_new_static("x", 1);
	char name[FW_CFG_MAX_FILE_NAME + 1];

	add_file(f, "opt/vessel/once", "1");
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(fw_cfg_add_file(f->fw, "opt/vessel/once", bytes, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, "opt/vessel/once"));
	}
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(fw_cfg_add_file(f->fw, "", bytes, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	}
	/* 55 characters plus the NUL fit in the 56-byte field; 56 do not. */
	memset(name, 'n', sizeof(name));
	name[55] = '\0';
	add_file(f, name, "ok");
	name[55] = 'n';
	name[56] = '\0';
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(fw_cfg_add_file(f->fw, name, bytes, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	}

	/* The directory lists only what was accepted. */
	{
		uint8_t count[4];

		read_item(f, FW_CFG_FILE_DIR, count, 4);
		g_assert_cmpmem(count, 4, "\0\0\0\x02", 4);
	}

	/* The directory has room for FW_CFG_MAX_FILES. */
	for (unsigned int i = 2; i < FW_CFG_MAX_FILES; i++) {
		g_autofree char *n = g_strdup_printf("opt/vessel/f%02u", i);

		add_file(f, n, n);
	}
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(fw_cfg_add_file(f->fw, "opt/vessel/one-too-many", bytes, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	}
	{
		uint8_t count[4];

		read_item(f, FW_CFG_FILE_DIR, count, 4);
		g_assert_cmpuint(count[3], ==, FW_CFG_MAX_FILES);
	}
}

static void test_dma_signature(struct fixture *f, gconstpointer data)
{
	uint64_t value;
	char text[9] = { 0 };

	/* The DMA address register reads "QEMU CFG" as a big-endian 64-bit value. */
	for (unsigned int i = 0; i < 8; i++) {
		g_assert_true(bus_read(&f->pio, FW_CFG_PORT_DMA + i, 1, &value));
		text[i] = (char)value;
	}
	g_assert_cmpstr(text, ==, "QEMU CFG");
	/* A guest's be32_to_cpu(inl(0x514)) and of inl(0x518). */
	g_assert_true(bus_read(&f->pio, FW_CFG_PORT_DMA, 4, &value));
	g_assert_cmphex(GUINT32_FROM_BE((uint32_t)value), ==, 0x51454d55);
	g_assert_true(bus_read(&f->pio, FW_CFG_PORT_DMA + 4, 4, &value));
	g_assert_cmphex(GUINT32_FROM_BE((uint32_t)value), ==, 0x20434647);
}

static void test_dma_read(struct fixture *f, gconstpointer data)
{
	add_file(f, "opt/vessel/data", "0123456789");

	/* Select + read in one operation; success leaves the control word zero. */
	fill_guest(f, BUF_ADDR, 0xaa, 16);
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 4, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "QEMU\xaa", 5);

	/* Reads continue where the previous one (or the data port) stopped. */
	g_assert_cmphex(dma(f, (FW_CFG_FILE_FIRST << 16) | DMA_SELECT | DMA_READ, 3, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "012", 3);
	g_assert_cmphex(data_byte(f), ==, '3');
	g_assert_cmphex(dma(f, DMA_READ, 2, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "45", 2);

	/* Skip moves the offset without touching memory. */
	fill_guest(f, BUF_ADDR, 0xaa, 16);
	g_assert_cmphex(dma(f, DMA_SKIP, 2, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "\xaa\xaa", 2);
	g_assert_cmphex(dma(f, DMA_READ, 2, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "89", 2);

	/* Select + skip, then read. */
	g_assert_cmphex(dma(f, (FW_CFG_FILE_FIRST << 16) | DMA_SELECT | DMA_SKIP, 7, 0), ==, 0);
	g_assert_cmphex(dma(f, DMA_READ, 3, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "789", 3);

	/* Skips add up without wrapping the offset back into the item. */
	g_assert_cmphex(dma(f, (FW_CFG_FILE_FIRST << 16) | DMA_SELECT | DMA_SKIP, 0xfffffffa, 0), ==, 0);
	g_assert_cmphex(dma(f, DMA_SKIP, 8, 0), ==, 0);
	fill_guest(f, BUF_ADDR, 0xaa, 16);
	g_assert_cmphex(dma(f, DMA_READ, 2, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "\0\0", 2);

	/* Skipping past the end leaves nothing to read. */
	g_assert_cmphex(dma(f, (FW_CFG_FILE_FIRST << 16) | DMA_SELECT | DMA_SKIP, 100, 0), ==, 0);
	fill_guest(f, BUF_ADDR, 0xaa, 16);
	g_assert_cmphex(dma(f, DMA_READ, 2, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "\0\0\xaa", 3);
}

static void test_dma_read_past_end(struct fixture *f, gconstpointer data)
{
	/* 8 bytes from a 4-byte item: the rest of the buffer is zero-filled. */
	fill_guest(f, BUF_ADDR, 0xaa, 16);
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 8, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "QEMU\0\0\0\0\xaa", 9);

	/* A missing item reads as zeroes too. */
	fill_guest(f, BUF_ADDR, 0xaa, 16);
	g_assert_cmphex(dma(f, (0x2345 << 16) | DMA_SELECT | DMA_READ, 4, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "\0\0\0\0\xaa", 5);

	/* A zero-length read is a successful no-op. */
	fill_guest(f, BUF_ADDR, 0xaa, 1);
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 0, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "\xaa", 1);
}

static void test_dma_write(struct fixture *f, gconstpointer data)
{
	char sig[5] = { 0 };

	/* Every item is read-only: a write reports an error and changes nothing. */
	g_assert_true(guest_memory_write(&f->mem, BUF_ADDR, "EVIL", 4));
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_WRITE, 4, BUF_ADDR), ==,
			DMA_ERROR);
	read_item(f, FW_CFG_SIGNATURE, sig, 4);
	g_assert_cmpstr(sig, ==, "QEMU");
}

static void test_dma_outside_ram(struct fixture *f, gconstpointer data)
{
	uint8_t last[8];

	/* A destination that is not RAM: error bit, no crash. */
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 4, 0xfee00000), ==,
			DMA_ERROR);
	g_assert_cmphex(dma(f, DMA_READ, 4, UINT64_MAX - 1), ==, DMA_ERROR);
	/* One that runs off the end of RAM: error, and nothing written at all. */
	fill_guest(f, GUEST_RAM - 2, 0xaa, 2);
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 4, GUEST_RAM - 2), ==,
			DMA_ERROR);
	assert_guest(f, GUEST_RAM - 2, "\xaa\xaa", 2);
	/* Lengths near 4 GiB cannot wrap into a small buffer. */
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 0xffffffff, BUF_ADDR), ==,
			DMA_ERROR);

	/* A descriptor that is not (entirely) RAM: ignored, the device still works. */
	start_dma(f, 0xfee00000);
	start_dma(f, GUEST_RAM - 8);
	start_dma(f, UINT64_MAX - 3);
	/* No status was written into the half of the descriptor that is RAM. */
	g_assert_true(guest_memory_read(&f->mem, GUEST_RAM - 8, last, 8));
	g_assert_cmpmem(last, 8, "\0\0\0\0\0\0\xaa\xaa", 8);
	g_assert_cmphex(dma(f, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 4, BUF_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "QEMU", 4);
}

static void test_dma_address_halves(struct fixture *f, gconstpointer data)
{
	put_descriptor(f, DESC_ADDR, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 4, BUF_ADDR);
	fill_guest(f, BUF_ADDR, 0xaa, 4);

	/* Writing the high half alone starts nothing. */
	bus_write(&f->pio, FW_CFG_PORT_DMA, 4, GUINT32_TO_BE(0));
	g_assert_cmphex(descriptor_control(f, DESC_ADDR), !=, 0);
	/* A high half of 1 makes the descriptor 4 GiB + 0x1000: not RAM here. */
	bus_write(&f->pio, FW_CFG_PORT_DMA, 4, GUINT32_TO_BE(1));
	bus_write(&f->pio, FW_CFG_PORT_DMA + 4, 4, GUINT32_TO_BE(DESC_ADDR));
	g_assert_cmphex(descriptor_control(f, DESC_ADDR), !=, 0);
	assert_guest(f, BUF_ADDR, "\xaa\xaa\xaa\xaa", 4);

	/* The register is zero after an operation: the low half alone now works. */
	bus_write(&f->pio, FW_CFG_PORT_DMA + 4, 4, GUINT32_TO_BE(DESC_ADDR));
	g_assert_cmphex(descriptor_control(f, DESC_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "QEMU", 4);

	/* fw_cfg_reset forgets a half-written address. */
	put_descriptor(f, DESC_ADDR, (FW_CFG_ID << 16) | DMA_SELECT | DMA_READ, 1, BUF_ADDR);
	bus_write(&f->pio, FW_CFG_PORT_DMA, 4, GUINT32_TO_BE(1));
	fw_cfg_reset(f->fw);
	bus_write(&f->pio, FW_CFG_PORT_DMA + 4, 4, GUINT32_TO_BE(DESC_ADDR));
	g_assert_cmphex(descriptor_control(f, DESC_ADDR), ==, 0);
	assert_guest(f, BUF_ADDR, "\x03", 1);
}

static void test_dma_above_4g(void)
{
	/* Guest RAM as on a 3 GiB + 64 KiB guest, but only the bits we touch backed. */
	g_autofree uint8_t *low = g_malloc0(0x10000);
	g_autofree uint8_t *high = g_malloc0(0x10000);
	struct fixture fx = { 0 }, *f = &fx;
	const uint64_t desc = 0x100000100ULL, buf = 0x100000200ULL;

	f->mem.regions[0] = (struct guest_memory_region){ 0, 0x10000, low };
	f->mem.regions[1] = (struct guest_memory_region){ 0x100000000ULL, 0x10000, high };
	f->mem.nr_regions = 2;
	setup_with_memory(f);

	/* A descriptor and a buffer above 4 GiB, reached through both halves. */
	put_descriptor(f, desc, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 4, buf);
	start_dma(f, desc);
	g_assert_cmphex(descriptor_control(f, desc), ==, 0);
	g_assert_cmpmem(high + 0x200, 4, "QEMU", 4);
	/* The same low half without the high one is a different address. */
	put_descriptor(f, desc, (FW_CFG_SIGNATURE << 16) | DMA_SELECT | DMA_READ, 4, buf);
	bus_write(&f->pio, FW_CFG_PORT_DMA + 4, 4, GUINT32_TO_BE((uint32_t)desc));
	g_assert_cmphex(descriptor_control(f, desc), !=, 0);

	fw_cfg_free(f->fw);
	bus_destroy(&f->pio);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/fw-cfg/signature", test_signature);
	ADD("/fw-cfg/items", test_items);
	ADD("/fw-cfg/wide-data-reads", test_wide_data_reads);
	ADD("/fw-cfg/directory", test_directory);
	ADD("/fw-cfg/file-names", test_file_names);
	ADD("/fw-cfg/dma-signature", test_dma_signature);
	ADD("/fw-cfg/dma-read", test_dma_read);
	ADD("/fw-cfg/dma-read-past-end", test_dma_read_past_end);
	ADD("/fw-cfg/dma-write", test_dma_write);
	ADD("/fw-cfg/dma-outside-ram", test_dma_outside_ram);
	ADD("/fw-cfg/dma-address-halves", test_dma_address_halves);
	g_test_add_func("/fw-cfg/dma-above-4g", test_dma_above_4g);
	return g_test_run();
}
