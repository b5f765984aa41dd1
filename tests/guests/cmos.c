/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmos: the MC146818A real-time clock and the PC/AT CMOS memory bytes.
 *
 * Asserts: the RTC settles (UIP clears) and holds a valid date, decoded
 * from BCD or binary and 12- or 24-hour form as register B says; the time
 * is within TOLERANCE_S of `epoch=<unix seconds>` from the command line
 * (the runner puts the host's time at launch there; a VMM that is slow to
 * reach the guest may be allowed `late=<seconds>` more); the memory size
 * bytes agree with the multiboot memory map: 0x30/0x31 and 0x17/0x18 hold
 * KiB above 1 MiB (at most 0xFFFF), 0x34/0x35 the 64 KiB blocks above
 * 16 MiB below 4 GiB.
 */
#include "lib/cmos.h"
#include "lib/multiboot.h"
#include "lib/printf.h"
#include "lib/test.h"

const char guest_name[] = "cmos";

#define TOLERANCE_S		5
/*
 * Firmware may keep the last few KiB below the top of RAM for itself
 * (SeaBIOS reserves 128 KiB there); CMOS counts them, the map does not.
 */
#define FIRMWARE_RESERVE_MAX	(1ULL << 20)

static void test_clock(void)
{
	struct rtc_time t;
	uint64_t epoch, late = 0, now;
	int64_t delta;

	test_assert(cmdline_get_u64("epoch", &epoch),
		    "no epoch=<unix seconds> on the command line");
	cmdline_get_u64("late", &late);
	test_assert(rtc_read(&t), "the RTC never settled or holds no valid date");
	now = rtc_to_unix(&t);
	printf("cmos: register A %#x, B %#x (%s, %s)\n", cmos_read(CMOS_REG_A),
	       t.reg_b, t.reg_b & CMOS_REG_B_DM_BINARY ? "binary" : "BCD",
	       t.reg_b & CMOS_REG_B_24H ? "24-hour" : "12-hour");
	printf("cmos: RTC %04u-%02u-%02u %02u:%02u:%02u = %lu, epoch %lu\n",
	       t.year, t.month, t.day, t.hour, t.minute, t.second, now, epoch);
	delta = (int64_t)(now - epoch);
	printf("cmos: RTC - epoch = %ld s (allowed -%u..+%lu)\n", delta,
	       TOLERANCE_S, TOLERANCE_S + late);
	test_assert(delta >= -TOLERANCE_S &&
		    delta <= (int64_t)(TOLERANCE_S + late),
		    "RTC is %ld s off the host time", delta);
}

static void test_memory_bytes(void)
{
	uint64_t top = multiboot_ram_top_below_4g();
	uint32_t ext_kib, ext_alt_kib, above_16m, want_ext_kib;
	uint64_t cmos_top;

	multiboot_print();
	test_assert(top > 0x100000, "the memory map has no RAM at 1 MiB");
	ext_kib = cmos_read(CMOS_EXT_MEM_LOW) |
		  cmos_read(CMOS_EXT_MEM_HIGH) << 8;
	ext_alt_kib = cmos_read(CMOS_EXT_MEM_LOW_ALT) |
		      cmos_read(CMOS_EXT_MEM_HIGH_ALT) << 8;
	above_16m = cmos_read(CMOS_MEM_ABOVE_16M_LOW) |
		    cmos_read(CMOS_MEM_ABOVE_16M_HIGH) << 8;
	cmos_top = above_16m ? (16ULL << 20) + ((uint64_t)above_16m << 16) :
		   (1ULL << 20) + ((uint64_t)ext_kib << 10);
	printf("cmos: 0x30/0x31 %u KiB, 0x17/0x18 %u KiB, 0x34/0x35 %u x 64 KiB\n",
	       ext_kib, ext_alt_kib, above_16m);
	printf("cmos: top of RAM by CMOS %#lx, by the memory map %#lx\n",
	       cmos_top, top);

	test_assert(ext_kib == ext_alt_kib,
		    "0x30/0x31 (%u) and 0x17/0x18 (%u) disagree", ext_kib,
		    ext_alt_kib);
	test_assert(cmos_top >= top && cmos_top - top <= FIRMWARE_RESERVE_MAX,
		    "CMOS says RAM ends at %#lx, the memory map at %#lx",
		    cmos_top, top);
	want_ext_kib = (cmos_top - (1ULL << 20)) >> 10;
	if (want_ext_kib > 0xffff)
		want_ext_kib = 0xffff;
	test_assert(ext_kib == want_ext_kib,
		    "0x30/0x31 is %u KiB, want %u for RAM up to %#lx", ext_kib,
		    want_ext_kib, cmos_top);
	if (top > (16ULL << 20))
		test_assert(above_16m > 0, "0x34/0x35 is 0 with RAM above 16 MiB");
}

int main(void)
{
	test_clock();
	test_memory_bytes();
	return 0;
}
