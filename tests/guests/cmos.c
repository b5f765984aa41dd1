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
 * 16 MiB below 4 GiB; the periodic interrupt (1024 Hz) arrives on IRQ 8
 * through the slave 8259, with PF and IRQF in register C, 20 times within
 * 2 s; the update-ended interrupt arrives within 2.5 s with UF and IRQF;
 * with the enables cleared no more come.
 */
#include "lib/cmos.h"
#include "lib/idt.h"
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/multiboot.h"
#include "lib/pic.h"
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

static volatile unsigned int rtc_interrupts;
static volatile uint8_t last_reg_c;

static void rtc_interrupt(struct trap_frame *frame)
{
	/* Reading register C acknowledges: the RTC drops IRQ 8. */
	last_reg_c = cmos_read(CMOS_REG_C);
	rtc_interrupts++;
	pic_eoi(CMOS_IRQ);
}

/* Enables `enable` in register B and waits for `count` interrupts (at most ms). */
static unsigned int rtc_wait_interrupts(uint8_t enable, unsigned int count, uint32_t ms)
{
	uint8_t b = cmos_read(CMOS_REG_B);

	rtc_interrupts = 0;
	last_reg_c = 0;
	cmos_read(CMOS_REG_C);
	timeout_start(ms);
	cmos_write(CMOS_REG_B, b | enable);
	while (rtc_interrupts < count && !timeout_expired())
		irq_wait();
	cmos_write(CMOS_REG_B, b & ~enable);
	timeout_stop();
	cmos_read(CMOS_REG_C);
	return rtc_interrupts;
}

static void test_interrupts(void)
{
	unsigned int n;

	lapic_enable();		/* LINT0 = ExtINT: the 8259 reaches the CPU */
	pic_init();
	idt_set_handler(PIC_SLAVE_VECTOR + CMOS_IRQ - 8, rtc_interrupt);
	pic_unmask(2);		/* the cascade */
	pic_unmask(CMOS_IRQ);
	cmos_write(CMOS_REG_A, 0x26);	/* 32.768 kHz base, 1024 Hz */

	n = rtc_wait_interrupts(CMOS_REG_B_PIE, 20, 2000);
	printf("cmos: periodic: %u interrupts, register C %#x\n", n, last_reg_c);
	test_assert(n >= 20, "only %u periodic interrupts in 2 s", n);
	test_assert((last_reg_c & (CMOS_REG_C_IRQF | CMOS_REG_C_PF)) == (CMOS_REG_C_IRQF | CMOS_REG_C_PF),
		    "register C %#x, want IRQF|PF", last_reg_c);

	n = rtc_wait_interrupts(CMOS_REG_B_UIE, 1, 2500);
	printf("cmos: update-ended: %u interrupts, register C %#x\n", n, last_reg_c);
	test_assert(n >= 1, "no update-ended interrupt in 2.5 s");
	test_assert((last_reg_c & (CMOS_REG_C_IRQF | CMOS_REG_C_UF)) == (CMOS_REG_C_IRQF | CMOS_REG_C_UF),
		    "register C %#x, want IRQF|UF", last_reg_c);

	/* Everything off: nothing for 100 ms. */
	n = rtc_wait_interrupts(0, 1, 100);
	test_assert(n == 0, "%u interrupts with the RTC's interrupts disabled", n);
	pic_mask(CMOS_IRQ);
}

int main(void)
{
	test_clock();
	test_memory_bytes();
	test_interrupts();
	return 0;
}
