/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <string.h>

#include "error.h"
#include "guest_memory.h"
#include "layout.h"

static void test_parse_size(void)
{
	static const struct { const char *text; uint64_t bytes; } ok[] = {
		{ "512M", 512ULL << 20 }, { "4G", 4ULL << 30 }, { "64", 64ULL << 20 },
		{ "64MiB", 64ULL << 20 }, { "2048k", 2ULL << 20 }, { "1T", 1ULL << 40 },
		{ "65536B", 65536 }, { "3gb", 3ULL << 30 },
	};
	static const char *bad[] = { "", "M", "12Q", "-1G", "1.5G", "4G4", "99999999999999999999", "17179869184T" };

	for (unsigned int i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		uint64_t bytes = 0;

		g_assert_true(guest_memory_parse_size(ok[i].text, &bytes, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(bytes, ==, ok[i].bytes);
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		uint64_t bytes = 0;

		g_assert_false(guest_memory_parse_size(bad[i], &bytes, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	}
}

static void test_small_guest(void)
{
	g_autoptr(GError) error = NULL;
	struct guest_memory mem;
	uint8_t buf[16];

	g_assert_true(guest_memory_init(&mem, 64ULL << 20, &error));
	g_assert_cmpuint(mem.nr_regions, ==, 1);
	g_assert_cmpuint(guest_memory_low_end(&mem), ==, 64ULL << 20);
	g_assert_cmpuint(guest_memory_high_size(&mem), ==, 0);

	g_assert_nonnull(guest_memory_ptr(&mem, 0, 64ULL << 20));
	g_assert_null(guest_memory_ptr(&mem, 0, (64ULL << 20) + 1));
	g_assert_null(guest_memory_ptr(&mem, (64ULL << 20) - 4, 8));
	/* Lengths chosen so that addr + len wraps around: must not pass. */
	g_assert_null(guest_memory_ptr(&mem, 16, UINT64_MAX - 8));
	g_assert_null(guest_memory_ptr(&mem, UINT64_MAX, 2));

	memset(buf, 0xab, sizeof(buf));
	g_assert_true(guest_memory_write(&mem, 0x1000, buf, sizeof(buf)));
	memset(buf, 0, sizeof(buf));
	g_assert_true(guest_memory_read(&mem, 0x1000, buf, sizeof(buf)));
	g_assert_cmpuint(buf[15], ==, 0xab);
	g_assert_false(guest_memory_write(&mem, (64ULL << 20) - 8, buf, sizeof(buf)));
	/* A refused write leaves RAM untouched. */
	g_assert_cmpuint(((uint8_t *)guest_memory_ptr(&mem, (64ULL << 20) - 8, 8))[0], ==, 0);
	g_assert_false(guest_memory_read(&mem, UINT64_MAX - 4, buf, sizeof(buf)));
	guest_memory_destroy(&mem);
}

static void test_pci_hole_split(void)
{
	g_autoptr(GError) error = NULL;
	struct guest_memory mem;
	uint8_t pattern[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];

	if (!guest_memory_init(&mem, 4ULL << 30, &error)) {
		/* Only a host with less than 4 GiB RAM refuses; say so. */
		g_test_skip(error->message);
		return;
	}
	g_assert_cmpuint(mem.nr_regions, ==, 2);
	g_assert_cmpuint(guest_memory_low_end(&mem), ==, LAYOUT_PCI_HOLE_START);
	g_assert_cmpuint(guest_memory_high_size(&mem), ==, (4ULL << 30) - LAYOUT_PCI_HOLE_START);
	/* The hole is not RAM. */
	g_assert_null(guest_memory_ptr(&mem, LAYOUT_PCI_HOLE_START, 1));
	g_assert_null(guest_memory_ptr(&mem, LAYOUT_LAPIC_ADDR, 4));
	g_assert_nonnull(guest_memory_ptr(&mem, LAYOUT_4GIB, 4096));
	g_assert_false(guest_memory_write(&mem, LAYOUT_PCI_HOLE_START - 4, pattern, sizeof(pattern)));
	g_assert_true(guest_memory_write(&mem, LAYOUT_4GIB + (1ULL << 30) - 8, pattern, 8));
	g_assert_true(guest_memory_read(&mem, LAYOUT_4GIB + (1ULL << 30) - 8, back, 8));
	g_assert_cmpmem(pattern, 8, back, 8);
	guest_memory_destroy(&mem);
}

static void test_bad_sizes(void)
{
	struct guest_memory mem;
	GError *error = NULL;

	g_assert_false(guest_memory_init(&mem, 1ULL << 20, &error));
	g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "too small"));
	g_clear_error(&error);
	g_assert_false(guest_memory_init(&mem, (64ULL << 20) + 100, &error));
	g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_false(guest_memory_init(&mem, 1ULL << 50, &error));
	g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY);
	g_assert_nonnull(strstr(error->message, "more than this computer has"));
	g_clear_error(&error);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/guest-memory/parse-size", test_parse_size);
	g_test_add_func("/guest-memory/small-guest", test_small_guest);
	g_test_add_func("/guest-memory/pci-hole-split", test_pci_hole_split);
	g_test_add_func("/guest-memory/bad-sizes", test_bad_sizes);
	return g_test_run();
}
