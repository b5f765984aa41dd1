/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The port-I/O / MMIO range table as a guest sees it through bus_read and
 * bus_write: who answers an access, with which offset and size, and what an
 * access nobody (or not one device entirely) claims returns.
 */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "error.h"

/* A device that records its last access and answers with a fixed pattern. */
struct recorder {
	unsigned int reads, writes;
	uint64_t last_offset, last_value;
	unsigned int last_size;
	uint64_t answer;
};

static uint64_t recorder_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct recorder *r = opaque;

	r->reads++;
	r->last_offset = offset;
	r->last_size = size;
	return r->answer;
}

static void recorder_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct recorder *r = opaque;

	r->writes++;
	r->last_offset = offset;
	r->last_value = value;
	r->last_size = size;
}

static const struct bus_ops recorder_ops = {
	.read = recorder_read,
	.write = recorder_write,
};

static const struct bus_ops write_only_ops = {
	.write = recorder_write,
};

static const struct bus_ops read_only_ops = {
	.read = recorder_read,
};

static void must_register(struct bus *bus, uint64_t base, uint64_t size, void *opaque, const char *name)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(bus_register(bus, base, size, &recorder_ops, opaque, name, &error));
	g_assert_no_error(error);
}

static void test_register_overlap(void)
{
	struct recorder a = { 0 }, b = { 0 };
	struct bus bus;

	bus_init(&bus, "I/O port");
	must_register(&bus, 0x100, 0x10, &a, "dev-a");	/* 0x100..0x10f */

	/* Every way of overlapping 0x100..0x10f is refused, naming the owner. */
	static const struct { uint64_t base, size; } clash[] = {
		{ 0x100, 0x10 },	/* identical */
		{ 0xf8, 0x10 },		/* ends inside */
		{ 0x10f, 0x4 },		/* starts on the last byte */
		{ 0x104, 0x4 },		/* inside */
		{ 0x80, 0x100 },	/* encloses */
		{ 0xff, 0x2 },		/* one byte each side of the start */
	};
	for (unsigned int i = 0; i < G_N_ELEMENTS(clash); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_false(bus_register(&bus, clash[i].base, clash[i].size, &recorder_ops, &b,
					    "dev-b", &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED);
		g_assert_nonnull(strstr(error->message, "dev-a"));
		g_assert_nonnull(strstr(error->message, "dev-b"));
	}

	/* Ranges touching it on either side are fine. */
	must_register(&bus, 0xf0, 0x10, &b, "below");
	must_register(&bus, 0x110, 0x1, &b, "above");
	g_assert_cmpuint(bus.ranges->len, ==, 3);

	/* Empty and wrapping ranges are refused. */
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(bus_register(&bus, 0x200, 0, &recorder_ops, &b, "empty", &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED);
	}
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(bus_register(&bus, UINT64_MAX - 0xf, 0x20, &recorder_ops, &b, "wraps", &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED);
	}
	/* ...but a range ending exactly at the top of the address space is not. */
	must_register(&bus, UINT64_MAX - 0xfff, 0x1000, &b, "top");
	bus_destroy(&bus);
}

static void test_unregister(void)
{
	struct recorder a = { .answer = 0xaa }, b = { .answer = 0xbb };
	struct bus bus;
	uint64_t value;

	bus_init(&bus, "MMIO");
	must_register(&bus, 0x1000, 0x1000, &a, "a");

	/* Only the owner can remove a range, and only by its base. */
	g_assert_false(bus_unregister(&bus, 0x1000, &b));
	g_assert_false(bus_unregister(&bus, 0x1004, &a));
	g_assert_true(bus_read(&bus, 0x1004, 1, &value));
	g_assert_cmpuint(value, ==, 0xaa);

	g_assert_true(bus_unregister(&bus, 0x1000, &a));
	g_assert_false(bus_unregister(&bus, 0x1000, &a));
	g_assert_false(bus_read(&bus, 0x1004, 1, &value));
	g_assert_cmpuint(value, ==, 0xff);
	g_assert_cmpuint(a.reads, ==, 1);

	/* The space is free again for someone else. */
	must_register(&bus, 0x1800, 0x100, &b, "b");
	g_assert_true(bus_read(&bus, 0x1810, 1, &value));
	g_assert_cmpuint(value, ==, 0xbb);
	bus_destroy(&bus);
}

static void test_dispatch(void)
{
	struct recorder a = { .answer = 0x1122334455667788ULL }, b = { .answer = 0x99 };
	struct bus bus;
	uint64_t value;

	bus_init(&bus, "MMIO");
	/* Registered out of order so the lookup cannot rely on insertion order. */
	must_register(&bus, 0xfee00000, 0x1000, &b, "b");
	must_register(&bus, 0xd0000000, 0x100, &a, "a");
	for (unsigned int i = 0; i < 20; i++) {
		static struct recorder filler[20];

		must_register(&bus, 0xe0000000 + 0x10000ULL * i, 0x100, &filler[i], "filler");
	}

	g_assert_true(bus_read(&bus, 0xd0000010, 4, &value));
	g_assert_cmpuint(a.reads, ==, 1);
	g_assert_cmpuint(a.last_offset, ==, 0x10);
	g_assert_cmpuint(a.last_size, ==, 4);
	/* The answer is cut to the access size. */
	g_assert_cmphex(value, ==, 0x55667788);
	g_assert_true(bus_read(&bus, 0xd00000f8, 8, &value));
	g_assert_cmphex(value, ==, 0x1122334455667788ULL);
	g_assert_true(bus_read(&bus, 0xd00000ff, 1, &value));
	g_assert_cmphex(value, ==, 0x88);
	g_assert_true(bus_read(&bus, 0xd0000000, 2, &value));
	g_assert_cmphex(value, ==, 0x7788);

	g_assert_true(bus_write(&bus, 0xfee000b0, 4, 0xdeadbeef));
	g_assert_cmpuint(b.writes, ==, 1);
	g_assert_cmpuint(b.last_offset, ==, 0xb0);
	g_assert_cmpuint(b.last_size, ==, 4);
	g_assert_cmphex(b.last_value, ==, 0xdeadbeef);
	g_assert_cmpuint(a.writes, ==, 0);
	bus_destroy(&bus);
}

static void test_unclaimed(void)
{
	struct recorder a = { .answer = 0 };
	struct bus bus;
	uint64_t value;

	bus_init(&bus, "I/O port");
	/* An empty bus: reads float high at every width, writes vanish. */
	g_assert_false(bus_read(&bus, 0x80, 1, &value));
	g_assert_cmphex(value, ==, 0xff);
	g_assert_false(bus_read(&bus, 0x80, 2, &value));
	g_assert_cmphex(value, ==, 0xffff);
	g_assert_false(bus_read(&bus, 0x80, 4, &value));
	g_assert_cmphex(value, ==, 0xffffffff);
	g_assert_false(bus_read(&bus, 0x80, 8, &value));
	g_assert_cmphex(value, ==, UINT64_MAX);
	g_assert_false(bus_write(&bus, 0x80, 1, 0));

	must_register(&bus, 0x3f8, 8, &a, "serial");
	/* Just outside the range on either side. */
	g_assert_false(bus_read(&bus, 0x3f7, 1, &value));
	g_assert_false(bus_read(&bus, 0x400, 1, &value));
	g_assert_false(bus_write(&bus, 0x400, 1, 0));
	g_assert_cmpuint(a.reads + a.writes, ==, 0);
	g_assert_true(bus_read(&bus, 0x3f8, 1, &value));
	g_assert_cmphex(value, ==, 0);
	bus_destroy(&bus);
}

static void test_straddle(void)
{
	struct recorder a = { .answer = 0 }, b = { .answer = 0 };
	struct bus bus;
	uint64_t value;

	bus_init(&bus, "I/O port");
	must_register(&bus, 0x60, 1, &a, "data");
	must_register(&bus, 0x61, 1, &b, "port-b");
	must_register(&bus, 0x70, 2, &a, "rtc");

	/* A word at 0x60 covers two devices: nobody owns all of it. */
	g_assert_false(bus_read(&bus, 0x60, 2, &value));
	g_assert_cmphex(value, ==, 0xffff);
	g_assert_false(bus_write(&bus, 0x60, 2, 0x1234));
	/* A dword at 0x70 runs past the RTC's two ports. */
	g_assert_false(bus_read(&bus, 0x70, 4, &value));
	g_assert_cmphex(value, ==, 0xffffffff);
	g_assert_false(bus_write(&bus, 0x71, 2, 0));
	/* A word starting before the range and ending in it. */
	g_assert_false(bus_read(&bus, 0x6f, 2, &value));
	g_assert_cmpuint(a.reads + a.writes + b.reads + b.writes, ==, 0);

	/* Exactly the range is fine. */
	g_assert_true(bus_read(&bus, 0x70, 2, &value));
	g_assert_cmpuint(a.reads, ==, 1);
	bus_destroy(&bus);
}

static void test_missing_handlers(void)
{
	struct recorder a = { .answer = 0x42 };
	g_autoptr(GError) error = NULL;
	struct bus bus;
	uint64_t value;

	bus_init(&bus, "I/O port");
	g_assert_true(bus_register(&bus, 0xf4, 1, &write_only_ops, &a, "exit", &error));
	g_assert_true(bus_register(&bus, 0xf5, 1, &read_only_ops, &a, "ro", &error));

	/* A write-only port reads as nothing is there... */
	g_assert_false(bus_read(&bus, 0xf4, 1, &value));
	g_assert_cmphex(value, ==, 0xff);
	g_assert_true(bus_write(&bus, 0xf4, 1, 7));
	g_assert_cmpuint(a.last_value, ==, 7);
	/* ...and writes to a read-only port are claimed and dropped. */
	g_assert_true(bus_write(&bus, 0xf5, 1, 9));
	g_assert_cmpuint(a.writes, ==, 1);
	g_assert_true(bus_read(&bus, 0xf5, 1, &value));
	g_assert_cmphex(value, ==, 0x42);
	bus_destroy(&bus);
}

static void test_bytes(void)
{
	const uint8_t in[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	uint8_t out[9];

	/* Little-endian: the byte at the lowest address is the low byte. */
	g_assert_cmphex(bus_value_from_bytes(in, 1), ==, 0x88);
	g_assert_cmphex(bus_value_from_bytes(in, 2), ==, 0x7788);
	g_assert_cmphex(bus_value_from_bytes(in, 4), ==, 0x55667788);
	g_assert_cmphex(bus_value_from_bytes(in, 8), ==, 0x1122334455667788ULL);

	memset(out, 0xee, sizeof(out));
	bus_value_to_bytes(0x1122334455667788ULL, out, 2);
	g_assert_cmphex(out[0], ==, 0x88);
	g_assert_cmphex(out[1], ==, 0x77);
	g_assert_cmphex(out[2], ==, 0xee);	/* nothing beyond the size */

	memset(out, 0xee, sizeof(out));
	bus_value_to_bytes(0x1122334455667788ULL, out, 8);
	g_assert_cmpmem(out, 8, in, 8);
	g_assert_cmphex(out[8], ==, 0xee);

	/* Sizes above 8 are clamped rather than overrunning. */
	memset(out, 0xee, sizeof(out));
	bus_value_to_bytes(0x0102030405060708ULL, out, 9);
	g_assert_cmphex(out[7], ==, 0x01);
	g_assert_cmphex(out[8], ==, 0xee);
	g_assert_cmphex(bus_value_from_bytes(in, 9), ==, 0x1122334455667788ULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bus/register-overlap", test_register_overlap);
	g_test_add_func("/bus/unregister", test_unregister);
	g_test_add_func("/bus/dispatch", test_dispatch);
	g_test_add_func("/bus/unclaimed", test_unclaimed);
	g_test_add_func("/bus/straddle", test_straddle);
	g_test_add_func("/bus/missing-handlers", test_missing_handlers);
	g_test_add_func("/bus/bytes", test_bytes);
	return g_test_run();
}
