/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pit-pic: the legacy timer path.  8254 channel 0 in rate-generator mode
 * at ~1 kHz drives ISA IRQ 0 into the master 8259, reprogrammed to vector
 * 0x20; the guest sleeps in STI;HLT and counts TICKS interrupts.
 *
 * Asserts: HLT is woken by the timer interrupt (every wake-up before the
 * deadline is a tick), each tick arrives on vector 0x20 with IRQ 0 in
 * service on the PIC (so EOIs work, else only one tick would come), the
 * IMR reads back what was written, and TICKS ticks take roughly TICKS ms
 * as measured by the LAPIC timer (loose bounds: 0.5x to 10x).
 *
 * The LAPIC timer is only the watchdog: with IRQ 0 missing, the guest
 * fails with a message instead of halting forever.
 */
#include "lib/idt.h"
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/pic.h"
#include "lib/pit.h"
#include "lib/printf.h"
#include "lib/test.h"

const char guest_name[] = "pit-pic";

#define TICK_HZ		1000
#define TICKS		50
#define DEADLINE_MS	2000

static volatile unsigned int ticks;
static volatile uint16_t isr_in_tick;

static void timer_interrupt(struct trap_frame *frame)
{
	/* OCW3 read of the ISR: IRQ 0 must be the one being serviced. */
	if (!ticks)
		isr_in_tick = pic_read_isr();
	ticks++;
	pic_eoi(PIT_IRQ);
}

int main(void)
{
	unsigned int wakeups = 0;
	uint16_t imr;
	uint64_t elapsed_us;

	lapic_enable();		/* LINT0 = ExtINT: the 8259 reaches the CPU */
	pic_init();
	imr = pic_read_imr();
	test_assert(imr == 0xffff, "IMR reads %#x after masking all", imr);
	idt_set_handler(PIC_MASTER_VECTOR + PIT_IRQ, timer_interrupt);
	pic_unmask(PIT_IRQ);
	imr = pic_read_imr();
	printf("pit-pic: IMR %#06x, PIT channel 0 at %u Hz -> IRQ 0 -> vector %#x\n",
	       imr, TICK_HZ, PIC_MASTER_VECTOR);
	test_assert(imr == 0xfffe, "IMR reads %#x, want 0xfffe", imr);

	timeout_start(DEADLINE_MS);
	pit_start_periodic(TICK_HZ);
	while (ticks < TICKS && !timeout_expired()) {
		irq_wait();
		wakeups++;
	}
	elapsed_us = timeout_elapsed_us();
	pit_stop();
	pic_mask(PIT_IRQ);
	timeout_stop();

	printf("pit-pic: %u ticks, %u HLT wake-ups, %lu us by the LAPIC timer\n",
	       ticks, wakeups, elapsed_us);
	printf("pit-pic: ISR during the first tick %#06x\n", isr_in_tick);
	test_assert(ticks >= TICKS, "only %u of %u timer ticks within %u ms",
		    ticks, TICKS, DEADLINE_MS);
	test_assert(isr_in_tick == 0x0001,
		    "PIC ISR %#x during the tick, want IRQ 0 only", isr_in_tick);
	test_assert(wakeups <= ticks + 1,
		    "%u HLT wake-ups for %u ticks: HLT returned without an interrupt",
		    wakeups, ticks);
	test_assert(elapsed_us >= TICKS * 1000000ULL / TICK_HZ / 2 &&
		    elapsed_us <= TICKS * 1000000ULL / TICK_HZ * 10,
		    "%u ticks at %u Hz took %lu us", TICKS, TICK_HZ, elapsed_us);
	return 0;
}
