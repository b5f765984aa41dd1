/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 16550A UART as a guest driver sees it: register reads and writes at
 * offsets 0-7 of COM1, the IRQ 4 line level, and what comes out of the
 * host side (a pipe).  Expected values follow the PC16550D data sheet.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "serial.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5,
       MSR = 6, SCR = 7 };

#define IIR_NONE	0x01
#define IIR_MSI		0x00
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_RLS		0x06
#define IIR_TIMEOUT	0x0c
#define IIR_FIFOS	0xc0
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

/* A fake interrupt controller input: the level and how often it moved. */
struct fake_irq {
	bool level;
	unsigned int raises, lowers;
	unsigned int gsi;
};

static void fake_irq_set(void *opaque, unsigned int gsi, bool level)
{
	struct fake_irq *irq = opaque;

	irq->gsi = gsi;
	if (level && !irq->level)
		irq->raises++;
	if (!level && irq->level)
		irq->lowers++;
	irq->level = level;
}

struct fixture {
	struct serial *uart;
	struct fake_irq irq;
	int pipe_rd, pipe_wr;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	int fds[2];
	struct irq_line line = { fake_irq_set, &f->irq, SERIAL_COM1_GSI };

	memset(f, 0, sizeof(*f));
	g_assert_cmpint(pipe2(fds, O_CLOEXEC | O_NONBLOCK), ==, 0);
	f->pipe_rd = fds[0];
	f->pipe_wr = fds[1];
	f->uart = serial_new(line, f->pipe_wr);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	serial_free(f->uart);
	close(f->pipe_rd);
	close(f->pipe_wr);
}

static uint8_t rd(struct fixture *f, unsigned int reg)
{
	return (uint8_t)serial_bus_ops.read(f->uart, reg, 1);
}

static void wr(struct fixture *f, unsigned int reg, uint8_t value)
{
	serial_bus_ops.write(f->uart, reg, value, 1);
}

/* Everything the UART has sent to the host so far. */
static GString *drain_output(struct fixture *f)
{
	GString *out = g_string_new(NULL);
	char buf[256];
	ssize_t n;

	while ((n = read(f->pipe_rd, buf, sizeof(buf))) > 0)
		g_string_append_len(out, buf, n);
	g_assert_true(n == 0 || errno == EAGAIN);
	return out;
}

static void test_power_on(struct fixture *f, gconstpointer data)
{
	g_assert_cmphex(rd(f, IER), ==, 0);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);
	g_assert_cmphex(rd(f, LCR), ==, 0);
	g_assert_cmphex(rd(f, MCR), ==, 0);
	g_assert_cmphex(rd(f, LSR), ==, LSR_THRE | LSR_TEMT);
	/* Reading an empty receiver gives nothing and sets no flag. */
	g_assert_cmphex(rd(f, RBR), ==, 0);
	g_assert_cmphex(rd(f, LSR), ==, LSR_THRE | LSR_TEMT);
	g_assert_false(f->irq.level);
	/* Scratch register holds what is written. */
	wr(f, SCR, 0x5a);
	g_assert_cmphex(rd(f, SCR), ==, 0x5a);
}

static void test_transmit(struct fixture *f, gconstpointer data)
{
	g_autoptr(GString) out = NULL;

	wr(f, LCR, 0x03);	/* 8N1 */
	for (const char *p = "Hello, COM1\n"; *p; p++) {
		/* A polling driver waits for THRE before each byte; it is immediate. */
		g_assert_true(rd(f, LSR) & LSR_THRE);
		wr(f, THR, (uint8_t)*p);
	}
	g_assert_cmphex(rd(f, LSR) & (LSR_THRE | LSR_TEMT), ==, LSR_THRE | LSR_TEMT);
	out = drain_output(f);
	g_assert_cmpstr(out->str, ==, "Hello, COM1\n");
}

static void test_output_discarded(void)
{
	struct fake_irq irq = { 0 };
	struct serial *uart = serial_new((struct irq_line){ fake_irq_set, &irq, 4 }, -1);

	/* No host output: the guest still sees a working transmitter. */
	serial_bus_ops.write(uart, THR, 'x', 1);
	g_assert_cmphex(serial_bus_ops.read(uart, LSR, 1) & LSR_THRE, ==, LSR_THRE);
	serial_free(uart);
}

static void test_divisor_latch(struct fixture *f, gconstpointer data)
{
	g_autoptr(GString) out = NULL;

	wr(f, IER, 0x05);
	wr(f, LCR, 0x80 | 0x03);
	/* With DLAB set, offsets 0 and 1 are the divisor (power-on: 9600 baud). */
	g_assert_cmphex(rd(f, DLL), ==, 12);
	g_assert_cmphex(rd(f, DLM), ==, 0);
	wr(f, DLL, 0x01);	/* 115200 baud */
	wr(f, DLM, 0x02);
	g_assert_cmphex(rd(f, DLL), ==, 0x01);
	g_assert_cmphex(rd(f, DLM), ==, 0x02);
	g_assert_cmphex(rd(f, LCR), ==, 0x83);

	wr(f, LCR, 0x03);
	/* Back to THR and IER; nothing was transmitted, IER kept its value. */
	g_assert_cmphex(rd(f, IER), ==, 0x05);
	out = drain_output(f);
	g_assert_cmpuint(out->len, ==, 0);
	wr(f, THR, 'A');
	g_string_free(out, TRUE);
	out = drain_output(f);
	g_assert_cmpstr(out->str, ==, "A");

	/* The divisor survives DLAB being cleared. */
	wr(f, LCR, 0x83);
	g_assert_cmphex(rd(f, DLL), ==, 0x01);
	g_assert_cmphex(rd(f, DLM), ==, 0x02);
}

static void test_thre_interrupt(struct fixture *f, gconstpointer data)
{
	wr(f, MCR, MCR_OUT2);
	g_assert_false(f->irq.level);
	g_assert_cmpuint(f->irq.gsi, ==, 0);

	/* Enabling ETBEI with an empty THR raises THRE at once (Linux relies on it). */
	wr(f, IER, 0x02);
	g_assert_true(f->irq.level);
	g_assert_cmpuint(f->irq.gsi, ==, SERIAL_COM1_GSI);
	/* Reading IIR while it says THRE clears that source. */
	g_assert_cmphex(rd(f, IIR), ==, IIR_THRE);
	g_assert_false(f->irq.level);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);

	/* Writing THR: the byte leaves at once and THRE is signalled again. */
	wr(f, THR, 'x');
	g_assert_true(f->irq.level);
	g_assert_cmphex(rd(f, IIR), ==, IIR_THRE);
	g_assert_false(f->irq.level);

	/* Disabling ETBEI removes the source; re-enabling raises it again. */
	wr(f, THR, 'y');
	g_assert_true(f->irq.level);
	wr(f, IER, 0x00);
	g_assert_false(f->irq.level);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);
	wr(f, IER, 0x02);
	g_assert_true(f->irq.level);
	g_assert_cmphex(rd(f, IIR), ==, IIR_THRE);
	g_assert_false(f->irq.level);
}

static void test_out2_gates_irq(struct fixture *f, gconstpointer data)
{
	wr(f, IER, 0x02);
	/* The interrupt is pending inside the UART, but OUT2 is off. */
	g_assert_false(f->irq.level);
	wr(f, MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	g_assert_true(f->irq.level);
	wr(f, MCR, MCR_DTR | MCR_RTS);
	g_assert_false(f->irq.level);
	/* IIR still reports it to a polling driver. */
	g_assert_cmphex(rd(f, IIR), ==, IIR_THRE);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);
	wr(f, MCR, MCR_OUT2);
	g_assert_false(f->irq.level);

	/* Received data raises the line only with OUT2 and ERBFI. */
	wr(f, IER, 0x01);
	g_assert_cmpuint(serial_receive(f->uart, (const uint8_t *)"k", 1), ==, 1);
	g_assert_true(f->irq.level);
	g_assert_cmphex(rd(f, RBR), ==, 'k');
	g_assert_false(f->irq.level);
}

static void test_receive_polling(struct fixture *f, gconstpointer data)
{
	const char *text = "typed on the host";

	/* FIFOs off (16450 mode): one byte at a time, DR while one is waiting. */
	g_assert_cmpuint(serial_receive(f->uart, (const uint8_t *)text, strlen(text)), ==, strlen(text));
	for (const char *p = text; *p; p++) {
		g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, LSR_DR);
		g_assert_cmphex(rd(f, RBR), ==, (uint8_t)*p);
	}
	g_assert_cmphex(rd(f, LSR), ==, LSR_THRE | LSR_TEMT);
	/* Host input never overruns the receiver: it waits in the backlog. */
	g_assert_false(rd(f, LSR) & LSR_OE);
}

static void test_fifo(struct fixture *f, gconstpointer data)
{
	uint8_t bytes[20];

	for (unsigned int i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)('a' + i);
	wr(f, MCR, MCR_OUT2);
	wr(f, FCR, 0x01);
	/* IIR bits 7:6 say the FIFOs are on. */
	g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | IIR_NONE);
	wr(f, FCR, 0xc1);	/* trigger level 14 */
	wr(f, IER, 0x01);

	g_assert_cmpuint(serial_receive(f->uart, bytes, 13), ==, 13);
	/* Below the trigger level: only a character timeout, but the line is up. */
	g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | IIR_TIMEOUT);
	g_assert_true(f->irq.level);
	g_assert_cmpuint(serial_receive(f->uart, bytes + 13, 7), ==, 7);
	/* 16 in the FIFO now, 4 waiting behind it. */
	g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | IIR_RDA);
	for (unsigned int i = 0; i < sizeof(bytes); i++) {
		g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, LSR_DR);
		g_assert_cmphex(rd(f, RBR), ==, bytes[i]);
	}
	g_assert_cmphex(rd(f, LSR) & (LSR_DR | LSR_OE), ==, 0);
	g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | IIR_NONE);
	g_assert_false(f->irq.level);

	/* FCR bit 1 empties the receive FIFO. */
	g_assert_cmpuint(serial_receive(f->uart, bytes, 5), ==, 5);
	g_assert_true(f->irq.level);
	wr(f, FCR, 0xc1 | 0x02);
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, 0);
	g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | IIR_NONE);
	g_assert_false(f->irq.level);

	/* Turning the FIFOs off: IIR bits 7:6 clear, one-byte receiver again. */
	wr(f, FCR, 0x00);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);
}

static void test_trigger_levels(struct fixture *f, gconstpointer data)
{
	static const unsigned int levels[4] = { 1, 4, 8, 14 };
	uint8_t bytes[16] = { 0 };

	wr(f, IER, 0x01);
	for (unsigned int t = 0; t < 4; t++) {
		uint8_t fcr = (uint8_t)(0x01 | 0x02 | (t << 6));

		wr(f, FCR, fcr);
		if (levels[t] > 1) {
			g_assert_cmpuint(serial_receive(f->uart, bytes, levels[t] - 1), ==, levels[t] - 1);
			g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | IIR_TIMEOUT);
			g_assert_cmpuint(serial_receive(f->uart, bytes, 1), ==, 1);
		} else {
			g_assert_cmpuint(serial_receive(f->uart, bytes, 1), ==, 1);
		}
		g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | IIR_RDA);
		/* One byte read drops below the level again (except level 1 emptied). */
		rd(f, RBR);
		g_assert_cmphex(rd(f, IIR), ==, IIR_FIFOS | (levels[t] > 1 ? IIR_TIMEOUT : IIR_NONE));
	}
}

static void test_loopback(struct fixture *f, gconstpointer data)
{
	g_autoptr(GString) out = NULL;

	wr(f, MCR, MCR_LOOP);
	wr(f, THR, 0x42);
	/* The byte went to our own receiver, not to the host. */
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, LSR_DR);
	g_assert_cmphex(rd(f, RBR), ==, 0x42);
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, 0);
	out = drain_output(f);
	g_assert_cmpuint(out->len, ==, 0);

	/* Host input waits while the receiver is looped back... */
	g_assert_cmpuint(serial_receive(f->uart, (const uint8_t *)"h", 1), ==, 1);
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, 0);
	/* ...and arrives once loopback ends. */
	wr(f, MCR, 0);
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, LSR_DR);
	g_assert_cmphex(rd(f, RBR), ==, 'h');
}

static void test_loopback_msr(struct fixture *f, gconstpointer data)
{
	/* Outside loopback a null modem is connected: CTS, DSR and DCD high. */
	g_assert_cmphex(rd(f, MSR), ==, 0xb0);

	/* Loopback with every output off: those three fall (their deltas set). */
	wr(f, MCR, MCR_LOOP);
	g_assert_cmphex(rd(f, MSR), ==, 0x0b);
	g_assert_cmphex(rd(f, MSR), ==, 0x00);	/* deltas clear on read */

	/* DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD. */
	wr(f, MCR, MCR_LOOP | MCR_DTR);
	g_assert_cmphex(rd(f, MSR), ==, 0x20 | 0x02);
	wr(f, MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
	g_assert_cmphex(rd(f, MSR), ==, 0x30 | 0x01);
	wr(f, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2);
	/* RI rising sets no delta (TERI is for its trailing edge only). */
	g_assert_cmphex(rd(f, MSR), ==, 0xf0 | 0x08);
	wr(f, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);
	g_assert_cmphex(rd(f, MSR), ==, 0xb0 | 0x04);
	g_assert_cmphex(rd(f, MSR), ==, 0xb0);

	/* Linux's 8250 autoconfig: MCR = LOOP | OUT2 | RTS must read MSR[7:4] = 0x9. */
	wr(f, MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
	g_assert_cmphex(rd(f, MSR) & 0xf0, ==, 0x90);
}

static void test_modem_status_interrupt(struct fixture *f, gconstpointer data)
{
	wr(f, IER, 0x08);
	wr(f, MCR, MCR_LOOP | MCR_OUT2);
	/* Entering loopback changed CTS/DSR (DCD follows OUT2): MSI pending. */
	g_assert_cmphex(rd(f, IIR), ==, IIR_MSI);
	g_assert_true(f->irq.level);
	rd(f, MSR);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);
	g_assert_false(f->irq.level);
}

static void test_priorities(struct fixture *f, gconstpointer data)
{
	wr(f, MCR, MCR_LOOP | MCR_OUT2);
	rd(f, MSR);
	wr(f, IER, 0x0f);
	/* Two bytes into a one-byte receiver: the second is an overrun. */
	wr(f, THR, 1);
	wr(f, THR, 2);
	g_assert_cmphex(rd(f, IIR), ==, IIR_RLS);	/* highest: line status */
	g_assert_true(f->irq.level);
	g_assert_cmphex(rd(f, LSR) & (LSR_OE | LSR_DR), ==, LSR_OE | LSR_DR);
	g_assert_cmphex(rd(f, LSR) & LSR_OE, ==, 0);	/* OE clears when LSR is read */
	g_assert_cmphex(rd(f, IIR), ==, IIR_RDA);	/* then received data */
	/* 16450 mode: the newer character replaced the unread one (LSR bit 1). */
	g_assert_cmphex(rd(f, RBR), ==, 2);
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, 0);
	g_assert_cmphex(rd(f, IIR), ==, IIR_THRE);	/* then THRE, cleared by this read */
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);
	g_assert_false(f->irq.level);

	/* Modem status is the lowest priority. */
	wr(f, MCR, MCR_LOOP | MCR_OUT2 | MCR_DTR);
	wr(f, THR, 3);
	g_assert_cmphex(rd(f, IIR), ==, IIR_RDA);
	rd(f, RBR);
	g_assert_cmphex(rd(f, IIR), ==, IIR_THRE);
	g_assert_cmphex(rd(f, IIR), ==, IIR_MSI);
	rd(f, MSR);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);
}

static void test_fifo_overrun(struct fixture *f, gconstpointer data)
{
	wr(f, FCR, 0x01);
	wr(f, MCR, MCR_LOOP);
	for (unsigned int i = 0; i < 17; i++)
		wr(f, THR, (uint8_t)(0x30 + i));
	/* FIFO mode: the 17th character is lost, the 16 before it are kept. */
	g_assert_cmphex(rd(f, LSR) & (LSR_OE | LSR_DR), ==, LSR_OE | LSR_DR);
	for (unsigned int i = 0; i < 16; i++)
		g_assert_cmphex(rd(f, RBR), ==, 0x30 + i);
	g_assert_cmphex(rd(f, LSR) & (LSR_OE | LSR_DR), ==, 0);
}

static void test_backlog(struct fixture *f, gconstpointer data)
{
	const size_t total = 3 * SERIAL_BACKLOG_BYTES + 77;
	g_autofree uint8_t *sent = g_malloc(total);
	size_t offered = 0, read_back = 0, taken;

	for (size_t i = 0; i < total; i++)
		sent[i] = (uint8_t)(i * 7 % 251);
	wr(f, FCR, 0x01);

	/* The host fills what the UART can hold: the backlog plus the FIFO. */
	while ((taken = serial_receive(f->uart, sent + offered, total - offered)) > 0)
		offered += taken;
	g_assert_cmpuint(offered, ==, SERIAL_BACKLOG_BYTES + 16);
	g_assert_cmpuint(serial_receive(f->uart, sent + offered, 1), ==, 0);

	/* As the guest reads, room appears byte for byte, and order is kept. */
	while (read_back < total) {
		for (unsigned int i = 0; i < 100 && read_back < offered; i++) {
			g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, LSR_DR);
			g_assert_cmphex(rd(f, RBR), ==, sent[read_back]);
			read_back++;
		}
		while (offered < total && (taken = serial_receive(f->uart, sent + offered, total - offered)) > 0)
			offered += taken;
		g_assert_cmpuint(offered - read_back, <=, SERIAL_BACKLOG_BYTES + 16);
	}
	g_assert_cmphex(rd(f, LSR) & (LSR_DR | LSR_OE), ==, 0);
}

static void test_reset(struct fixture *f, gconstpointer data)
{
	wr(f, LCR, 0x83);
	wr(f, DLL, 1);
	wr(f, LCR, 0x03);
	wr(f, FCR, 0xc7);
	wr(f, IER, 0x0f);
	wr(f, MCR, MCR_OUT2 | MCR_DTR);
	g_assert_true(f->irq.level);

	serial_reset(f->uart);
	g_assert_false(f->irq.level);
	g_assert_cmphex(rd(f, IER), ==, 0);
	g_assert_cmphex(rd(f, IIR), ==, IIR_NONE);	/* FIFOs off too */
	g_assert_cmphex(rd(f, LCR), ==, 0);
	g_assert_cmphex(rd(f, MCR), ==, 0);
	g_assert_cmphex(rd(f, LSR), ==, LSR_THRE | LSR_TEMT);
	g_assert_cmphex(rd(f, MSR), ==, 0xb0);
	wr(f, LCR, 0x80);
	g_assert_cmphex(rd(f, DLL), ==, 12);
}

static void test_reset_keeps_input(struct fixture *f, gconstpointer data)
{
	/* Host input waiting behind a full receiver when the guest reboots... */
	g_assert_cmpuint(serial_receive(f->uart, (const uint8_t *)"ab", 2), ==, 2);
	serial_reset(f->uart);
	/* ...is there for the next boot's polling driver, without any setup. */
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, LSR_DR);
	g_assert_cmphex(rd(f, RBR), ==, 'b');
	g_assert_cmphex(rd(f, LSR) & LSR_DR, ==, 0);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/serial/power-on", test_power_on);
	ADD("/serial/transmit", test_transmit);
	g_test_add_func("/serial/output-discarded", test_output_discarded);
	ADD("/serial/divisor-latch", test_divisor_latch);
	ADD("/serial/thre-interrupt", test_thre_interrupt);
	ADD("/serial/out2-gates-irq", test_out2_gates_irq);
	ADD("/serial/receive-polling", test_receive_polling);
	ADD("/serial/fifo", test_fifo);
	ADD("/serial/trigger-levels", test_trigger_levels);
	ADD("/serial/loopback", test_loopback);
	ADD("/serial/loopback-msr", test_loopback_msr);
	ADD("/serial/modem-status-interrupt", test_modem_status_interrupt);
	ADD("/serial/priorities", test_priorities);
	ADD("/serial/fifo-overrun", test_fifo_overrun);
	ADD("/serial/backlog", test_backlog);
	ADD("/serial/reset", test_reset);
	ADD("/serial/reset-keeps-input", test_reset_keeps_input);
	return g_test_run();
}
