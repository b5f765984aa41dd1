/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "serial.h"
#include "io.h"
#include "idt.h"
#include "pic.h"

/* Bounded so a missing UART slows the guest down instead of hanging it. */
#define THRE_POLL_LIMIT	10000

#define RX_RING_SIZE	256

static uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head, rx_tail;
static volatile uint32_t rx_irq_count;
static uint8_t rx_vector;

void serial_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
	outb(COM1_BASE + UART_DLL, 1);		/* 115200 baud */
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
	outb(COM1_BASE + UART_FCR, 0);		/* 16450 mode: no FIFO */
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	for (int i = 0; i < THRE_POLL_LIMIT; i++) {
		if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void serial_write(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

int serial_poll_getc(void)
{
	if (!(inb(COM1_BASE + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(COM1_BASE + UART_RBR);
}

/*
 * Drain everything the UART holds: the 8259 sees edges, so a byte left
 * behind would never raise another interrupt.
 */
static void serial_rx_interrupt(struct trap_frame *frame)
{
	rx_irq_count++;
	while (inb(COM1_BASE + UART_LSR) & UART_LSR_DR) {
		uint8_t c = inb(COM1_BASE + UART_RBR);

		if (rx_head - rx_tail < RX_RING_SIZE) {
			rx_ring[rx_head % RX_RING_SIZE] = c;
			rx_head++;
		}
	}
	pic_eoi(COM1_IRQ);
}

void serial_rx_irq_start(uint8_t vector)
{
	rx_vector = vector;
	idt_set_handler(vector, serial_rx_interrupt);
	/* Bytes that arrived before now were for the polling reader. */
	outb(COM1_BASE + UART_MCR,
	     UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	outb(COM1_BASE + UART_IER, UART_IER_RDA);
	pic_unmask(COM1_IRQ);
}

void serial_rx_irq_stop(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
	pic_mask(COM1_IRQ);
	idt_set_handler(rx_vector, NULL);
}

int serial_rx_irq_getc(void)
{
	int c;

	if (rx_tail == rx_head)
		return -1;
	c = rx_ring[rx_tail % RX_RING_SIZE];
	rx_tail++;
	return c;
}

uint32_t serial_rx_irq_count(void)
{
	return rx_irq_count;
}
