/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * serial: the COM1 16550A, both directions.
 *
 * Asserts (PC16550D datasheet): the scratch register and the divisor
 * latch (DLAB=1) read back what was written and LCR reads back; with the
 * transmitter idle LSR shows THRE and TEMT and no error bits, and IIR
 * says no interrupt is pending.  Then it reads a line typed on the console
 * twice: first by polling LSR.DR, then interrupt-driven (IER.RDA, MCR.OUT2,
 * IRQ 4 through the 8259 to vector 0x24, HLT while waiting), and prints
 * each uppercased.  The runner types a line after each "input> " prompt
 * and checks the uppercased echoes.
 */
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/pic.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "serial";

#define LINE_MAX		80
#define INPUT_TIMEOUT_MS	4000
#define LSR_ERRORS		0x9e	/* OE, PE, FE, BI, FIFO error */

static uint8_t uart_read(unsigned int reg)
{
	return inb(COM1_BASE + reg);
}

static void uart_write(unsigned int reg, uint8_t value)
{
	outb(COM1_BASE + reg, value);
}

static void test_registers(void)
{
	static const uint8_t patterns[] = { 0x55, 0xaa, 0x00, 0xff, 0x3c };
	uint8_t dll, dlm, lcr, lsr, iir;

	for (unsigned int i = 0; i < ARRAY_SIZE(patterns); i++) {
		uint8_t v;

		uart_write(UART_SCR, patterns[i]);
		v = uart_read(UART_SCR);
		test_assert(v == patterns[i], "scratch register: wrote %#x read %#x",
			    patterns[i], v);
	}
	printf("serial: scratch register round-trips %u patterns\n",
	       (unsigned int)ARRAY_SIZE(patterns));

	/* Divisor 12 = 9600 baud, then back to 1 = 115200 baud. */
	uart_write(UART_LCR, UART_LCR_DLAB | UART_LCR_8N1);
	uart_write(UART_DLL, 12);
	uart_write(UART_DLM, 0);
	dll = uart_read(UART_DLL);
	dlm = uart_read(UART_DLM);
	uart_write(UART_DLL, 1);
	lcr = uart_read(UART_LCR);
	uart_write(UART_LCR, UART_LCR_8N1);
	printf("serial: divisor latch %#x:%#x, LCR with DLAB %#x\n", dlm, dll,
	       lcr);
	test_assert(dll == 12 && dlm == 0, "divisor latch reads %#x:%#x, wrote 0:12",
		    dlm, dll);
	test_assert(lcr == (UART_LCR_DLAB | UART_LCR_8N1), "LCR reads %#x", lcr);
	lcr = uart_read(UART_LCR);
	test_assert(lcr == UART_LCR_8N1, "LCR reads %#x after clearing DLAB", lcr);

	/* The transmitter is idle once this line's characters are out. */
	printf("serial: checking the line status\n");
	lsr = uart_read(UART_LSR);
	for (int i = 0; i < 1000 && (lsr & (UART_LSR_THRE | UART_LSR_TEMT)) !=
		     (UART_LSR_THRE | UART_LSR_TEMT); i++)
		lsr = uart_read(UART_LSR);
	iir = uart_read(UART_IIR);
	printf("serial: LSR %#x IIR %#x IER %#x MCR %#x\n", lsr, iir,
	       uart_read(UART_IER), uart_read(UART_MCR));
	test_assert((lsr & (UART_LSR_THRE | UART_LSR_TEMT)) ==
		    (UART_LSR_THRE | UART_LSR_TEMT),
		    "LSR %#x: transmitter not idle", lsr);
	test_assert(!(lsr & LSR_ERRORS), "LSR %#x shows line errors", lsr);
	test_assert(iir & UART_IIR_NO_INT, "IIR %#x: interrupt pending with IER=0",
		    iir);
}

/* Appends c to line; returns true at the end of the line. */
static bool line_add(char *line, unsigned int *len, int c)
{
	if (c == '\n' || c == '\r')
		return *len > 0;	/* also skips a \n left from \r\n */
	if (*len < LINE_MAX - 1)
		line[(*len)++] = (char)c;
	line[*len] = '\0';
	return false;
}

static void print_upper(const char *label, const char *line)
{
	printf("%s: ", label);
	for (const char *p = line; *p; p++)
		serial_putc((char)to_upper(*p));
	printf("\n");
}

static void test_polled_receive(void)
{
	char line[LINE_MAX] = "";
	unsigned int len = 0;
	bool done = false;

	printf("serial: type a line, read by polling LSR.DR\n");
	printf("polled input> \n");
	timeout_start(INPUT_TIMEOUT_MS);
	while (!done && !timeout_expired()) {
		int c = serial_poll_getc();

		if (c >= 0)
			done = line_add(line, &len, c);
	}
	timeout_stop();
	test_assert(done, "no complete line by polling within %u ms (got \"%s\")",
		    INPUT_TIMEOUT_MS, line);
	print_upper("polled", line);
}

static void test_irq_receive(void)
{
	char line[LINE_MAX] = "";
	unsigned int len = 0, wakeups = 0;
	bool done = false;
	int c;

	pic_init();
	serial_rx_irq_start(PIC_MASTER_VECTOR + COM1_IRQ);
	printf("serial: type a line, read on IRQ %u (vector %#x)\n", COM1_IRQ,
	       PIC_MASTER_VECTOR + COM1_IRQ);
	printf("irq input> \n");
	timeout_start(INPUT_TIMEOUT_MS);
	while (!done && !timeout_expired()) {
		while (!done && (c = serial_rx_irq_getc()) >= 0)
			done = line_add(line, &len, c);
		if (!done) {
			irq_wait();
			wakeups++;
		}
	}
	timeout_stop();
	serial_rx_irq_stop();
	printf("serial: %u IRQs, %u HLT wake-ups\n", serial_rx_irq_count(),
	       wakeups);
	test_assert(done, "no complete line by interrupts within %u ms (got \"%s\", %u IRQs)",
		    INPUT_TIMEOUT_MS, line, serial_rx_irq_count());
	test_assert(serial_rx_irq_count() > 0, "line complete without any IRQ");
	print_upper("irq", line);
}

int main(void)
{
	printf("serial: hello from COM1 at %#x\n", COM1_BASE);
	printf("serial: a second line, to see lines come out in order\n");
	test_registers();
	lapic_enable();		/* for the input timeouts */
	test_polled_receive();
	test_irq_receive();
	return 0;
}
